package partition_test

import (
	"fmt"

	"github.com/eddy-streams/eddy/internal/partition"
)

// A keyed record goes to the partition the Java client would choose for the
// same key bytes (these three were checked against kafka-clients 4.0.0).
func ExampleForKey() {
	for _, key := range []string{"user-42", "user-43", "user-44"} {
		fmt.Println(key, partition.ForKey([]byte(key), 12))
	}
	// Output:
	// user-42 4
	// user-43 2
	// user-44 8
}

func ExampleMurmur2() {
	fmt.Println(partition.Murmur2([]byte("21")))
	// Output:
	// -973932308
}
