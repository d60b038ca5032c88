#include "collectors/formats/rpm_header.hpp"

namespace hostprint::collectors {
namespace {

constexpr std::int32_t tag_name = 1000;
constexpr std::int32_t tag_version = 1001;
constexpr std::int32_t tag_release = 1002;
constexpr std::int32_t tag_epoch = 1003;
constexpr std::int32_t tag_arch = 1022;
constexpr std::uint32_t type_int32 = 4;
constexpr std::uint32_t type_string = 6;

std::uint32_t be32(std::string_view bytes, std::size_t at) {
  auto b = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + i]));
  };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

struct Entry {
  std::int32_t tag;
  std::uint32_t type;
  std::int64_t offset;
  std::uint32_t count;
};

// The NUL-terminated string at `entry.offset` of `data`, or a problem.
std::optional<std::string> string_at(const Entry& entry, std::string_view data,
                                     std::string& problem, const char* what) {
  if (entry.type != type_string || entry.count != 1) {
    problem = std::string(what) + " is not a single string";
    return std::nullopt;
  }
  if (entry.offset < 0 || static_cast<std::uint64_t>(entry.offset) >= data.size()) {
    problem = std::string(what) + " lies outside the data";
    return std::nullopt;
  }
  std::string_view rest = data.substr(static_cast<std::size_t>(entry.offset));
  auto end = rest.substr(0, max_rpm_field_bytes + 1).find('\0');
  if (end == std::string_view::npos) {
    problem =
        std::string(what) + (rest.size() > max_rpm_field_bytes ? " is too long" : " does not end");
    return std::nullopt;
  }
  return std::string(rest.substr(0, end));
}

}  // namespace

RpmHeaderParse parse_rpm_header(std::string_view blob) {
  RpmHeaderParse out;
  if (blob.size() < 8) {
    out.problem = "header shorter than its preamble";
    return out;
  }
  const std::uint32_t il = be32(blob, 0);
  const std::uint32_t dl = be32(blob, 4);
  if (il == 0 || il > max_rpm_header_entries) {
    out.problem = "header index count " + std::to_string(il) + " out of range";
    return out;
  }
  if (dl > max_rpm_header_bytes) {
    out.problem = "header data length " + std::to_string(dl) + " out of range";
    return out;
  }
  const std::uint64_t expected = 8 + std::uint64_t{il} * 16 + dl;
  if (blob.size() != expected) {
    out.problem = "header of " + std::to_string(blob.size()) + " bytes, its preamble says " +
                  std::to_string(expected);
    return out;
  }
  const std::string_view data = blob.substr(8 + std::size_t{il} * 16);

  std::optional<std::string> name, version, release, arch;
  std::optional<std::uint32_t> epoch;
  for (std::uint32_t i = 0; i < il; ++i) {
    const std::size_t at = 8 + std::size_t{i} * 16;
    Entry e{static_cast<std::int32_t>(be32(blob, at)), be32(blob, at + 4),
            static_cast<std::int32_t>(be32(blob, at + 8)), be32(blob, at + 12)};
    if (e.tag == tag_epoch) {
      if (epoch) continue;
      if (e.type != type_int32 || e.count < 1 || e.offset < 0 || e.offset % 4 != 0 ||
          static_cast<std::uint64_t>(e.offset) + 4 > data.size()) {
        out.problem = "EPOCH is not an aligned integer inside the data";
        return out;
      }
      epoch = be32(data, static_cast<std::size_t>(e.offset));
      continue;
    }
    std::optional<std::string>* target = nullptr;
    const char* what = "";
    if (e.tag == tag_name) {
      target = &name;
      what = "NAME";
    } else if (e.tag == tag_version) {
      target = &version;
      what = "VERSION";
    } else if (e.tag == tag_release) {
      target = &release;
      what = "RELEASE";
    } else if (e.tag == tag_arch) {
      target = &arch;
      what = "ARCH";
    }
    if (!target || *target) continue;  // the first of a repeated tag is the one rpm shows
    *target = string_at(e, data, out.problem, what);
    if (!*target) return out;
  }
  if (!name || name->empty()) {
    out.problem = "header without NAME";
    return out;
  }
  if (!version || !release) {
    out.problem = "header of " + *name + " without VERSION or RELEASE";
    return out;
  }
  out.header = RpmHeader{std::move(*name), std::move(*version), std::move(*release),
                         arch.value_or(std::string()), epoch};
  return out;
}

std::string rpm_evr(const RpmHeader& header) {
  std::string evr;
  if (header.epoch) evr = std::to_string(*header.epoch) + ":";
  return evr + header.version + "-" + header.release;
}

}  // namespace hostprint::collectors
