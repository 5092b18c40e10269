package ironic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Inspection is the document the agent posts to the inspection callback
// (ironic_python_agent/inspector.py, collect_default): the inventory, the
// collectors' errors, and the hardware managers that made it.
type Inspection struct {
	Inventory     *Inventory    `json:"inventory"`
	Error         *string       `json:"error"`
	BootInterface string        `json:"boot_interface"`
	RootDisk      *Disk         `json:"root_disk"`
	Configuration Configuration `json:"configuration"`
}

// Configuration is what produced the inspection data.
type Configuration struct {
	Collectors []string          `json:"collectors"`
	Managers   []HardwareManager `json:"managers"`
}

// HardwareManager is a hardware manager's name and version.
type HardwareManager struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Inventory is the hardware inventory as IPA's hardware managers serialise
// it (ironic_python_agent/hardware.py: the serializable_fields of
// NetworkInterface, CPU, BlockDevice, Memory, BootInfo, SystemVendorInfo).
// Only the fields ipabr reads are named here; the raw document keeps all.
type Inventory struct {
	Interfaces   []Interface  `json:"interfaces"`
	CPU          CPU          `json:"cpu"`
	Disks        []Disk       `json:"disks"`
	Memory       Memory       `json:"memory"`
	Boot         Boot         `json:"boot"`
	SystemVendor SystemVendor `json:"system_vendor"`
	Hostname     string       `json:"hostname"`
	BMCAddress   string       `json:"bmc_address"`
}

// Interface is one network interface.
type Interface struct {
	Name        string `json:"name"`
	MACAddress  string `json:"mac_address"`
	IPv4Address string `json:"ipv4_address"`
	Driver      string `json:"driver"`
	Vendor      string `json:"vendor"`
	Product     string `json:"product"`
	HasCarrier  bool   `json:"has_carrier"`
	SpeedMbps   Number `json:"speed_mbps"`
	PCIAddress  string `json:"pci_address"`
}

// CPU is the processor summary.
type CPU struct {
	ModelName    string `json:"model_name"`
	Count        Number `json:"count"`
	Architecture string `json:"architecture"`
	SocketCount  Number `json:"socket_count"`
}

// Disk is one block device; Size is in bytes.
type Disk struct {
	Name       string `json:"name"`
	Model      string `json:"model"`
	Vendor     string `json:"vendor"`
	Serial     string `json:"serial"`
	Size       Number `json:"size"`
	Rotational bool   `json:"rotational"`
	Tran       string `json:"tran"`
}

// Memory: Total in bytes (what the kernel sees), PhysicalMB the installed
// memory in MiB when IPA could read it.
type Memory struct {
	Total      Number `json:"total"`
	PhysicalMB Number `json:"physical_mb"`
}

// Boot is how the machine booted: current_boot_mode is "bios" or "uefi".
type Boot struct {
	CurrentBootMode string `json:"current_boot_mode"`
	PXEInterface    string `json:"pxe_interface"`
}

// SystemVendor is what SMBIOS says about the machine.
type SystemVendor struct {
	ProductName  string `json:"product_name"`
	SerialNumber string `json:"serial_number"`
	Manufacturer string `json:"manufacturer"`
}

// Number is an integer that IPA's documents give as a JSON number or, in
// older agents and some managers, as a string of digits; null is 0. Large
// sizes stay exact (int64, not float64).
type Number int64

// UnmarshalJSON accepts 123, 123.0, "123" and null.
func (n *Number) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if s == "null" {
		*n = 0
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		if s = strings.TrimSpace(str); s == "" {
			*n = 0
			return nil
		}
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = Number(i)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != f || f > 9.2e18 || f < -9.2e18 {
		return fmt.Errorf("not a number: %s", b)
	}
	*n = Number(f)
	return nil
}

// ParseInspection reads an inspection document: a JSON object with an
// inventory object in it. The error says what is wrong.
func ParseInspection(data []byte) (*Inspection, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", jsonError(err))
	}
	raw, ok := probe["inventory"]
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		return nil, errors.New("no inventory in the document")
	}
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return nil, errors.New("the inventory is not a JSON object")
	}
	var in Inspection
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("the inventory does not have IPA's shape: %v", jsonError(err))
	}
	return &in, nil
}

// jsonError drops the Go type names from a decoding error.
func jsonError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s is a JSON %s where IPA sends a %s", te.Field, te.Value, jsonKind(te.Type.Kind().String()))
	}
	return err.Error()
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice":
		return "list"
	case "struct", "map", "ptr":
		return "object"
	default:
		return "number"
	}
}
