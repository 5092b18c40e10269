package qemu

import (
	"fmt"
	"net"
	"strconv"
)

// PortFree reports whether 127.0.0.1:port can be bound right now.
func PortFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// FreePort asks the kernel for a free port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port on 127.0.0.1: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ChoosePort returns want when it is free on 127.0.0.1, otherwise another
// free port and moved=true. QEMU binds it moments later; a port taken in
// between makes QEMU exit with a host-forwarding error.
func ChoosePort(want int) (port int, moved bool, err error) {
	if PortFree(want) {
		return want, false, nil
	}
	port, err = FreePort()
	return port, err == nil, err
}
