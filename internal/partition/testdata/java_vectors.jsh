// Prints Kafka's murmur2 and default partition for the keys in
// partition_test.go's javaVectors, using the Java client itself
// (kafka-clients 4.0.0 was used; Utils needs slf4j-api on the class path):
//
//	jshell --class-path kafka-clients-4.0.0.jar:slf4j-api-1.7.36.jar testdata/java_vectors.jsh
//
// Each line: KEY <key hex> <Utils.murmur2> then
// BuiltInPartitioner.partitionForKey for n = 1 2 3 7 12 100 1000 2147483647.
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
String hex(byte[] b) { StringBuilder s = new StringBuilder(); for (byte x : b) s.append(String.format("%02x", x)); return s.toString(); }
// Bytes above 0x7f matter: Java bytes are signed and murmur2 must mask them.
byte[] pattern(int len, int mul, int add) { byte[] b = new byte[len]; for (int i = 0; i < len; i++) b[i] = (byte)(i * mul + add); return b; }
java.util.List<byte[]> keys = new java.util.ArrayList<>();
keys.add(new byte[0]);
for (int len = 1; len <= 9; len++) keys.add(pattern(len, 37, 0xf0));
keys.add(pattern(16, 91, 0x80));
keys.add(pattern(31, 13, 0xff));
keys.add("user-42".getBytes(java.nio.charset.StandardCharsets.UTF_8));
keys.add("héllo wörld ✓".getBytes(java.nio.charset.StandardCharsets.UTF_8));
int[] ns = {1, 2, 3, 7, 12, 100, 1000, 2147483647};
for (byte[] k : keys) { StringBuilder s = new StringBuilder("KEY " + hex(k) + " " + Utils.murmur2(k)); for (int n : ns) s.append(" " + BuiltInPartitioner.partitionForKey(k, n)); System.out.println(s); }
/exit
