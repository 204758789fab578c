package initramfs_test

import (
	"bytes"
	"fmt"

	"github.com/cmcsync/cmcsync/qemu/initramfs"
)

func ExampleWriter() {
	var buf bytes.Buffer
	w := initramfs.NewWriter(&buf)
	_ = w.Dir("bin", 0o755)
	_ = w.File("bin/hello", 0o755, []byte("#!/bin/sh\necho hello\n"))
	_ = w.Symlink("init", "bin/hello")
	if err := w.Close(); err != nil {
		fmt.Println(err)
	}
	fmt.Println(buf.Len()%512 == 0, bytes.HasPrefix(buf.Bytes(), []byte("070701")))
	// Output: true true
}
