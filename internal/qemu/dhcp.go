package qemu

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
)

// DHCPWatch follows the packet capture QEMU's filter-dump writes of the
// guest's NIC (a classic pcap file, appended as packets pass) and reports
// the first DHCP acknowledgement QEMU's built-in DHCP server sends: the
// moment the guest has an address.
type DHCPWatch struct {
	Path string

	off     int64
	buf     []byte
	order   binary.ByteOrder
	link    uint32
	started bool
	lease   *Lease
}

// Lease is a DHCP acknowledgement seen on the wire.
type Lease struct {
	IP  net.IP
	MAC net.HardwareAddr
}

// pcap constants: the file's magic numbers, its link types, and the
// maximum record size QEMU writes (its snaplen).
const (
	pcapMagicMicro = 0xa1b2c3d4
	pcapMagicNano  = 0xa1b23c4d
	linkEthernet   = 1
	pcapMaxRecord  = 1 << 20
)

// Poll reads what was appended since the last call and returns the lease
// once an acknowledgement has passed (nil until then). A file that does not
// exist yet is not an error; a file that is not a pcap is.
func (w *DHCPWatch) Poll() (*Lease, error) {
	if w.lease != nil {
		return w.lease, nil
	}
	f, err := os.Open(w.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.Seek(w.off, io.SeekStart); err != nil {
		return nil, err
	}
	chunk, err := io.ReadAll(io.LimitReader(f, 16<<20))
	if err != nil {
		return nil, err
	}
	w.off += int64(len(chunk))
	return w.Feed(chunk)
}

// Feed parses more of the capture, from wherever Poll or Feed left off.
func (w *DHCPWatch) Feed(chunk []byte) (*Lease, error) {
	if w.lease != nil {
		return w.lease, nil
	}
	w.buf = append(w.buf, chunk...)
	if !w.started {
		if len(w.buf) < 24 {
			return nil, nil
		}
		switch {
		case binary.LittleEndian.Uint32(w.buf) == pcapMagicMicro || binary.LittleEndian.Uint32(w.buf) == pcapMagicNano:
			w.order = binary.LittleEndian
		case binary.BigEndian.Uint32(w.buf) == pcapMagicMicro || binary.BigEndian.Uint32(w.buf) == pcapMagicNano:
			w.order = binary.BigEndian
		default:
			return nil, fmt.Errorf("%s is not a pcap capture", w.Path)
		}
		w.link = w.order.Uint32(w.buf[20:24])
		if w.link != linkEthernet {
			return nil, fmt.Errorf("%s captures link type %d, not Ethernet", w.Path, w.link)
		}
		w.buf = w.buf[24:]
		w.started = true
	}
	for len(w.buf) >= 16 {
		incl := w.order.Uint32(w.buf[8:12])
		if incl > pcapMaxRecord {
			return nil, fmt.Errorf("%s: a %d-byte packet record; the capture is corrupt", w.Path, incl)
		}
		if len(w.buf) < 16+int(incl) {
			break
		}
		pkt := w.buf[16 : 16+incl]
		w.buf = w.buf[16+incl:]
		if l := dhcpAck(pkt); l != nil {
			w.lease = l
			w.buf = nil
			return l, nil
		}
	}
	// Keep the unparsed tail in a fresh slice so the buffer does not grow
	// with everything ever read.
	w.buf = append([]byte(nil), w.buf...)
	return nil, nil
}

// dhcpAck returns the lease if frame is an Ethernet frame carrying a
// DHCPACK (IPv4, UDP 67 → 68, BOOTREPLY, option 53 = 5).
func dhcpAck(frame []byte) *Lease {
	if len(frame) < 14 {
		return nil
	}
	etype := binary.BigEndian.Uint16(frame[12:14])
	p := frame[14:]
	if etype == 0x8100 && len(p) >= 4 { // one VLAN tag
		etype = binary.BigEndian.Uint16(p[2:4])
		p = p[4:]
	}
	if etype != 0x0800 || len(p) < 20 || p[0]>>4 != 4 {
		return nil
	}
	ihl := int(p[0]&0x0f) * 4
	if ihl < 20 || len(p) < ihl+8 || p[9] != 17 {
		return nil
	}
	udp := p[ihl:]
	if binary.BigEndian.Uint16(udp[0:2]) != 67 || binary.BigEndian.Uint16(udp[2:4]) != 68 {
		return nil
	}
	b := udp[8:]
	const cookie = 236
	if len(b) < cookie+4 || b[0] != 2 || binary.BigEndian.Uint32(b[cookie:]) != 0x63825363 {
		return nil
	}
	for o := b[cookie+4:]; len(o) > 0; {
		code := o[0]
		if code == 0 { // pad
			o = o[1:]
			continue
		}
		if code == 255 || len(o) < 2 || len(o) < 2+int(o[1]) {
			return nil
		}
		if code == 53 && o[1] == 1 {
			if o[2] != 5 {
				return nil
			}
			return &Lease{IP: net.IP(append([]byte(nil), b[16:20]...)), MAC: net.HardwareAddr(append([]byte(nil), b[28:34]...))}
		}
		o = o[2+int(o[1]):]
	}
	return nil
}
