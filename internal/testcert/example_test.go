package testcert_test

import (
	"crypto/tls"
	"fmt"
	"os"

	"github.com/cmcsync/cmcsync/internal/testcert"
)

// A certificate and key that crypto/tls loads.
func Example() {
	dir, _ := os.MkdirTemp("", "testcert")
	defer os.RemoveAll(dir)
	certFile, keyFile, _, err := testcert.Write(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = tls.LoadX509KeyPair(certFile, keyFile)
	fmt.Println("loads:", err == nil)
	// Output:
	// loads: true
}
