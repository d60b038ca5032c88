#pragma once
// The RPM header as the RPM database stores it (one per installed package, in every backend):
// big-endian `il` (index entry count) and `dl` (data length), `il` 16-byte index entries
// (tag, type, offset, count) and `dl` bytes of data. Only the identity of the package is read.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hostprint::collectors {

struct RpmHeader {
  std::string name;
  std::string version;
  std::string release;
  std::string arch;  // empty when the header has none (gpg-pubkey pseudo-packages)
  std::optional<std::uint32_t> epoch;
};

struct RpmHeaderParse {
  std::optional<RpmHeader> header;
  std::string problem;  // why `header` is empty
};

// Bounds, near rpm's own: at most 65535 index entries; a blob larger than 64 MiB is refused (the
// largest real headers, packages of tens of thousands of files, are a few MiB).
constexpr std::uint32_t max_rpm_header_entries = 0xffff;
constexpr std::size_t max_rpm_header_bytes = 64u << 20;
// A name, version, release or arch longer than this is not a real one.
constexpr std::size_t max_rpm_field_bytes = 4096;

// Reads NAME, VERSION, RELEASE (required), EPOCH and ARCH from one header blob. Every offset, count
// and length is checked against the blob; a string must end (NUL) inside the data.
RpmHeaderParse parse_rpm_header(std::string_view blob);

// "epoch:version-release", or "version-release" without an epoch, as rpm's %{EVR}.
std::string rpm_evr(const RpmHeader& header);

}  // namespace hostprint::collectors
