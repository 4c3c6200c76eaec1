// Prints the bytes the Java client's serializers write, for the golden
// vectors in kafka_compat_test.go. Run with the kafka-clients jar (4.0.0 was
// used) on the class path:
//
//	jshell --class-path kafka-clients-4.0.0.jar testdata/java_serializers.jsh
import org.apache.kafka.common.serialization.*;
String hex(byte[] b) { StringBuilder s = new StringBuilder(); for (byte x : b) s.append(String.format("%02x", x)); return s.toString(); }
LongSerializer longs = new LongSerializer();
for (long v : new long[]{0L, 1L, -1L, Long.MIN_VALUE, Long.MAX_VALUE, 0x0102030405060708L, 1700000000000L}) System.out.println("LONG " + v + " " + hex(longs.serialize("t", v)));
IntegerSerializer ints = new IntegerSerializer();
for (int v : new int[]{0, 1, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, 0x01020304}) System.out.println("INT " + v + " " + hex(ints.serialize("t", v)));
DoubleSerializer doubles = new DoubleSerializer();
for (double v : new double[]{0.0, -0.0, 1.5, -2.25, Double.NaN, Double.longBitsToDouble(0x7ff8000000000001L), Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.MIN_VALUE, Double.MAX_VALUE, Math.PI}) System.out.println("DOUBLE " + v + " " + hex(doubles.serialize("t", v)));
StringSerializer strings = new StringSerializer();
for (String v : new String[]{"", "a", "héllo", "日本語", "😀"}) System.out.println("STRING " + v + " " + hex(strings.serialize("t", v)));
/exit
