#include "collectors/formats/zip_archive.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace hostprint::collectors {
namespace {

// Record layouts of PKWARE's APPNOTE.TXT; every number in them is little-endian.
constexpr std::uint32_t kLocalSignature = 0x04034b50;
constexpr std::uint32_t kCentralSignature = 0x02014b50;
constexpr std::uint32_t kEndSignature = 0x06054b50;
constexpr std::uint32_t kEnd64Signature = 0x06064b50;
constexpr std::uint32_t kEnd64LocatorSignature = 0x07064b50;
constexpr std::size_t kLocalHeaderSize = 30;
constexpr std::size_t kCentralHeaderSize = 46;
constexpr std::size_t kEndSize = 22;
constexpr std::size_t kEnd64Size = 56;
constexpr std::size_t kEnd64LocatorSize = 20;
constexpr std::size_t kMaxCommentSize = 0xFFFF;
constexpr std::uint16_t kZip64ExtraId = 0x0001;
constexpr std::uint16_t kStored = 0;
constexpr std::uint16_t kDeflated = 8;

constexpr std::size_t kChunk = 64 * 1024;
// Below this many inflated bytes the ratio is not judged: a small member does no harm, and a
// few bytes of deflate can legitimately stand for a few kilobytes.
constexpr std::uint64_t kRatioFloor = 1 << 20;

std::uint16_t u16(const unsigned char* p) {
  return static_cast<std::uint16_t>(p[0] | p[1] << 8);
}
std::uint32_t u32(const unsigned char* p) {
  return u16(p) | std::uint32_t{u16(p + 2)} << 16;
}
std::uint64_t u64(const unsigned char* p) {
  return u32(p) | std::uint64_t{u32(p + 4)} << 32;
}

// Whether [offset, offset + size) lies within [0, limit), without overflowing.
bool fits(std::uint64_t offset, std::uint64_t size, std::uint64_t limit) {
  return offset <= limit && size <= limit - offset;
}

std::string at_offset(std::uint64_t offset) {
  return " at offset " + std::to_string(offset);
}

// Replaces the 32-bit fields of `entry` that are saturated by the values of its ZIP64 extra
// field, which holds exactly those, in this order. False when one is needed and missing.
bool apply_zip64_extra(const unsigned char* extra, std::size_t size, ZipEntry& entry) {
  bool need_uncompressed = entry.uncompressed_size == 0xFFFFFFFF;
  bool need_compressed = entry.compressed_size == 0xFFFFFFFF;
  bool need_offset = entry.local_header_offset == 0xFFFFFFFF;
  if (!need_uncompressed && !need_compressed && !need_offset) return true;
  std::size_t needed = 8 * (need_uncompressed + need_compressed + need_offset);
  for (std::size_t at = 0; size - at >= 4;) {
    std::uint16_t id = u16(extra + at);
    std::size_t length = u16(extra + at + 2);
    if (length > size - at - 4) return false;
    if (id == kZip64ExtraId) {
      if (length < needed) return false;
      const unsigned char* p = extra + at + 4;
      if (need_uncompressed) entry.uncompressed_size = u64(p), p += 8;
      if (need_compressed) entry.compressed_size = u64(p), p += 8;
      if (need_offset) entry.local_header_offset = u64(p);
      return true;
    }
    at += 4 + length;
  }
  return false;
}

std::uint32_t crc_of(const std::string& bytes) {
  return static_cast<std::uint32_t>(
      crc32_z(crc32_z(0, nullptr, 0), reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

// A member read whole must be what the directory says it is.
bool matches_directory(const ZipEntry& entry, const ZipMember& member, std::string& error) {
  if (member.bytes.size() != entry.uncompressed_size) {
    error = "member is " + std::to_string(member.bytes.size()) + " bytes, the directory says " +
            std::to_string(entry.uncompressed_size);
    return false;
  }
  if (crc_of(member.bytes) != entry.crc32) {
    error = "member's CRC differs from the directory's";
    return false;
  }
  return true;
}

// Makes room for `size` bytes, doubling but never past `cap`, which std::string's own growth
// could double past.
void grow(std::string& s, std::size_t size, std::size_t cap) {
  if (size > s.capacity()) {
    std::string bigger;
    bigger.reserve(std::min(cap, std::max(size, 2 * s.capacity())));
    bigger.assign(s);
    s.swap(bigger);
  }
  s.resize(size);
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\f';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Calls on_line for each line of `text`, ended by CRLF, LF or CR.
template <typename F>
void for_each_line(std::string_view text, F&& on_line) {
  while (!text.empty()) {
    std::size_t end = text.find_first_of("\r\n");
    std::string_view line = text.substr(0, end);
    if (end == std::string_view::npos) {
      text = {};
    } else {
      bool crlf = text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n';
      text.remove_prefix(end + (crlf ? 2 : 1));
    }
    if (!on_line(line)) return;
  }
}

// The artifact folder of META-INF/maven/<group>/<artifact>/pom.properties, if `name` is one.
std::optional<std::string_view> pom_artifact(std::string_view name) {
  constexpr std::string_view prefix = "META-INF/maven/", suffix = "/pom.properties";
  if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) ||
      !name.ends_with(suffix)) {
    return std::nullopt;
  }
  std::string_view middle = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  std::size_t slash = middle.find('/');
  if (slash == 0 || slash == std::string_view::npos || slash + 1 == middle.size() ||
      middle.find('/', slash + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  return middle.substr(slash + 1);
}

}  // namespace

std::optional<ZipArchive> ZipArchive::open_file(int fd, const ZipLimits& limits,
                                                std::string& error) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    error = std::string("fstat: ") + std::strerror(errno);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    error = "not a regular file";
    return std::nullopt;
  }
  ZipArchive archive;
  archive.fd_ = fd;
  archive.size_ = static_cast<std::uint64_t>(st.st_size);
  archive.limits_ = limits;
  if (!archive.load(error)) return std::nullopt;
  return archive;
}

std::optional<ZipArchive> ZipArchive::open_bytes(std::string bytes, const ZipLimits& limits,
                                                 std::string& error) {
  ZipArchive archive;
  archive.size_ = bytes.size();
  archive.bytes_ = std::move(bytes);
  archive.limits_ = limits;
  if (!archive.load(error)) return std::nullopt;
  return archive;
}

bool ZipArchive::load(std::string& error) {
  if (size_ > limits_.max_archive_bytes) {
    error = "archive of " + std::to_string(size_) + " bytes is over the limit of " +
            std::to_string(limits_.max_archive_bytes);
    return false;
  }
  return find_directory(error) && read_directory(error) && check_no_overlap(error);
}

const ZipEntry* ZipArchive::find(std::string_view name) const {
  for (const auto& entry : entries_) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

bool ZipArchive::read_at(std::uint64_t offset, void* out, std::size_t size) const {
  if (!fits(offset, size, size_)) return false;
  if (fd_ < 0) {
    if (size > 0) std::memcpy(out, bytes_.data() + offset, size);
    return true;
  }
  auto* p = static_cast<char*>(out);
  while (size > 0) {
    ssize_t n = ::pread(fd_, p, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // an error, or the file shrank under us
    p += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

// The end record is the last 22 bytes, unless a comment of up to 64 KiB follows it; a comment may
// itself hold the signature, so each candidate from the end is tried until one holds together.
bool ZipArchive::find_directory(std::string& error) {
  if (size_ < kEndSize) {
    error = "not a ZIP archive: " + std::to_string(size_) + " bytes";
    return false;
  }
  std::size_t tail_size =
      static_cast<std::size_t>(std::min<std::uint64_t>(size_, kEndSize + kMaxCommentSize));
  std::uint64_t tail_start = size_ - tail_size;
  std::string tail(tail_size, '\0');
  if (!read_at(tail_start, tail.data(), tail_size)) {
    error = "cannot read the end of the archive";
    return false;
  }
  const auto* t = reinterpret_cast<const unsigned char*>(tail.data());
  std::string first_reason;
  for (std::size_t i = tail_size - kEndSize + 1; i-- > 0;) {
    if (u32(t + i) != kEndSignature) continue;
    if (i + kEndSize + u16(t + i + 20) > tail_size) continue;  // its comment would run past the end
    std::string why;
    if (try_end_record(tail_start + i, t + i, why)) return true;
    if (first_reason.empty()) first_reason = why;
  }
  error =
      first_reason.empty() ? "not a ZIP archive: no end of central directory record" : first_reason;
  return false;
}

bool ZipArchive::try_end_record(std::uint64_t position, const unsigned char* record,
                                std::string& why) {
  std::uint64_t entries = u16(record + 10);
  std::uint64_t size = u32(record + 12);
  std::uint64_t offset = u32(record + 16);
  std::uint64_t end = position;  // the central directory ends where the end records begin
  bool zip64 = false;

  unsigned char locator[kEnd64LocatorSize];
  if (position >= kEnd64LocatorSize &&
      read_at(position - kEnd64LocatorSize, locator, sizeof locator) &&
      u32(locator) == kEnd64LocatorSignature) {
    std::uint64_t locator_at = position - kEnd64LocatorSize;
    unsigned char record64[kEnd64Size];
    auto record64_at = [&](std::uint64_t at) {
      return fits(at, kEnd64Size, locator_at) && read_at(at, record64, kEnd64Size) &&
             u32(record64) == kEnd64Signature && u64(record64 + 4) >= kEnd64Size - 12 &&
             fits(at + 12, u64(record64 + 4), locator_at);
    };
    // Where the locator says; else, with data prepended to the archive, just before the locator.
    std::optional<std::uint64_t> at;
    if (record64_at(u64(locator + 8))) {
      at = u64(locator + 8);
    } else if (locator_at >= kEnd64Size && record64_at(locator_at - kEnd64Size)) {
      at = locator_at - kEnd64Size;
    }
    if (at) {
      entries = u64(record64 + 32);
      size = u64(record64 + 40);
      offset = u64(record64 + 48);
      end = *at;
      zip64 = true;
    } else if (entries == 0xFFFF || size == 0xFFFFFFFF || offset == 0xFFFFFFFF) {
      why = "ZIP64 end of central directory record missing or damaged";
      return false;
    }
  }

  if (size > end) {
    why = "central directory of " + std::to_string(size) +
          " bytes is larger than the archive before its end record" + at_offset(end);
    return false;
  }
  std::uint64_t start = end - size;  // the directory lies just before the end records
  if (offset > start) {
    why = "central directory offset " + std::to_string(offset) +
          " lies past where the directory must start" + at_offset(start);
    return false;
  }
  if (entries > size / kCentralHeaderSize) {
    why = "end record claims " + std::to_string(entries) + " entries, more than a " +
          std::to_string(size) + "-byte central directory holds";
    return false;
  }
  unsigned char signature[4];
  if (size > 0 && (!read_at(start, signature, 4) || u32(signature) != kCentralSignature)) {
    why = "no central directory" + at_offset(start);
    return false;
  }
  base_ = start - offset;
  directory_offset_ = offset;
  directory_size_ = size;
  declared_entries_ = entries;
  zip64_ = zip64;
  return true;
}

bool ZipArchive::read_directory(std::string& error) {
  const std::uint64_t start = base_ + directory_offset_;
  // From a file, a window of the directory read by chunks: never all of it at once.
  std::string window;
  std::uint64_t window_at = 0;
  auto view = [&](std::uint64_t at, std::size_t size) -> const unsigned char* {
    if (fd_ < 0) return reinterpret_cast<const unsigned char*>(bytes_.data() + start + at);
    if (at < window_at || at + size > window_at + window.size()) {
      std::size_t length = static_cast<std::size_t>(
          std::max<std::uint64_t>(size, std::min<std::uint64_t>(kChunk, directory_size_ - at)));
      window.resize(length);
      window_at = at;
      if (!read_at(start + at, window.data(), length)) {
        window.clear();
        return nullptr;
      }
    }
    return reinterpret_cast<const unsigned char*>(window.data() + (at - window_at));
  };

  // The count is at most one per 46 bytes of the directory, checked already.
  entries_.reserve(
      static_cast<std::size_t>(std::min<std::uint64_t>(declared_entries_, limits_.max_entries)));
  std::uint64_t at = 0;
  while (at < directory_size_) {
    if (entries_.size() >= limits_.max_entries || at >= limits_.max_directory_bytes) {
      truncated_ = true;
      break;
    }
    auto which = [&] { return "central directory entry " + std::to_string(entries_.size() + 1); };
    if (directory_size_ - at < kCentralHeaderSize) {
      error = which() + " is cut short by the end of the directory";
      return false;
    }
    const unsigned char* header = view(at, kCentralHeaderSize);
    if (header == nullptr) {
      error = "cannot read the central directory" + at_offset(start + at);
      return false;
    }
    if (u32(header) != kCentralSignature) {
      error = which() + " has no signature" + at_offset(start + at);
      return false;
    }
    std::size_t name_size = u16(header + 28);
    std::size_t extra_size = u16(header + 30);
    std::size_t comment_size = u16(header + 32);
    std::uint64_t record_size = kCentralHeaderSize + name_size + extra_size + comment_size;
    if (record_size > directory_size_ - at) {
      error = which() + " runs past the end of the directory";
      return false;
    }
    if (name_size > limits_.max_name_bytes) {
      error = which() + " has a name of " + std::to_string(name_size) +
              " bytes, over the limit of " + std::to_string(limits_.max_name_bytes);
      return false;
    }
    header = view(at, kCentralHeaderSize + name_size + extra_size);
    if (header == nullptr) {
      error = "cannot read the central directory" + at_offset(start + at);
      return false;
    }
    ZipEntry entry;
    entry.encrypted = (u16(header + 8) & 1) != 0;
    entry.method = u16(header + 10);
    entry.crc32 = u32(header + 16);
    entry.compressed_size = u32(header + 20);
    entry.uncompressed_size = u32(header + 24);
    entry.local_header_offset = u32(header + 42);
    entry.name.assign(reinterpret_cast<const char*>(header + kCentralHeaderSize), name_size);
    if (!apply_zip64_extra(header + kCentralHeaderSize + name_size, extra_size, entry)) {
      error = which() + " lacks the ZIP64 extra field its sizes call for";
      return false;
    }
    // The local header, its name and the data all lie before the directory.
    std::uint64_t local_size = kLocalHeaderSize + name_size;
    if (!fits(entry.local_header_offset, local_size, directory_offset_) ||
        !fits(entry.local_header_offset + local_size, entry.compressed_size, directory_offset_)) {
      error = which() + " has data outside the archive (local header offset " +
              std::to_string(entry.local_header_offset) + ", " +
              std::to_string(entry.compressed_size) + " bytes)";
      return false;
    }
    entries_.push_back(std::move(entry));
    at += record_size;
  }

  // Writers before ZIP64 kept only the low 16 bits of a larger count.
  std::uint64_t count = entries_.size();
  if (!truncated_ && declared_entries_ != count &&
      (zip64_ || declared_entries_ != (count & 0xFFFF))) {
    error = "end record claims " + std::to_string(declared_entries_) +
            " entries, the central directory holds " + std::to_string(count);
    return false;
  }
  return true;
}

// Members whose bytes overlap are how a small archive stands for many large files (the
// overlapping-file bomb); an honest writer never makes them.
bool ZipArchive::check_no_overlap(std::string& error) const {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;
  spans.reserve(entries_.size());
  for (const auto& entry : entries_) {
    spans.emplace_back(entry.local_header_offset, entry.local_header_offset + kLocalHeaderSize +
                                                      entry.name.size() + entry.compressed_size);
  }
  std::sort(spans.begin(), spans.end());
  for (std::size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].first < spans[i - 1].second) {
      error = "members overlap" + at_offset(base_ + spans[i].first) + " (an overlapping bomb?)";
      return false;
    }
  }
  return true;
}

std::optional<ZipMember> ZipArchive::read(const ZipEntry& entry, std::uint64_t max_bytes,
                                          std::string& error) const {
  std::uint64_t cap = std::min(max_bytes, limits_.max_member_bytes);
  if (entry.encrypted) {
    error = "member is encrypted";
    return std::nullopt;
  }
  if (entry.method != kStored && entry.method != kDeflated) {
    error = "compression method " + std::to_string(entry.method) + " is not supported";
    return std::nullopt;
  }
  unsigned char header[kLocalHeaderSize];
  if (!fits(entry.local_header_offset, kLocalHeaderSize, directory_offset_) ||
      !read_at(base_ + entry.local_header_offset, header, sizeof header)) {
    error = "local header lies outside the archive";
    return std::nullopt;
  }
  if (u32(header) != kLocalSignature) {
    error = "no local header" + at_offset(base_ + entry.local_header_offset);
    return std::nullopt;
  }
  std::size_t name_size = u16(header + 26);
  std::size_t extra_size = u16(header + 28);
  if (name_size != entry.name.size()) {
    error = "local header's name is " + std::to_string(name_size) + " bytes, the directory's " +
            std::to_string(entry.name.size());
    return std::nullopt;
  }
  std::uint64_t data = entry.local_header_offset + kLocalHeaderSize + name_size + extra_size;
  if (!fits(data, entry.compressed_size, directory_offset_)) {
    error = "member data runs into the central directory";
    return std::nullopt;
  }
  data += base_;

  if (entry.method == kDeflated) return inflate_member(entry, data, cap, error);
  ZipMember member;
  member.truncated = entry.compressed_size > cap;
  member.bytes.resize(static_cast<std::size_t>(std::min(entry.compressed_size, cap)));
  if (!read_at(data, member.bytes.data(), member.bytes.size())) {
    error = "cannot read member data" + at_offset(data);
    return std::nullopt;
  }
  if (!member.truncated && !matches_directory(entry, member, error)) return std::nullopt;
  return member;
}

// Inflates at most `cap` bytes, judging the ratio of bytes out to bytes in as it goes; the sizes
// the archive declares are not trusted, only checked once the whole member is out.
std::optional<ZipMember> ZipArchive::inflate_member(const ZipEntry& entry, std::uint64_t data,
                                                    std::uint64_t cap, std::string& error) const {
  z_stream stream{};
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) {
    error = "cannot start zlib";
    return std::nullopt;
  }
  struct End {
    z_stream* stream;
    ~End() { inflateEnd(stream); }
  } end{&stream};

  ZipMember member;
  std::string input(
      static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, entry.compressed_size)), '\0');
  std::uint64_t unread = entry.compressed_size;
  std::uint64_t consumed = 0;
  std::uint64_t produced = 0;
  char probe;  // a byte inflated past the cap tells a member longer than the cap
  while (true) {
    if (stream.avail_in == 0 && unread > 0) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, unread));
      if (!read_at(data, input.data(), n)) {
        error = "cannot read member data" + at_offset(data);
        return std::nullopt;
      }
      data += n;
      unread -= n;
      stream.next_in = reinterpret_cast<Bytef*>(input.data());
      stream.avail_in = static_cast<uInt>(n);
    }
    bool full = produced == cap;
    std::size_t room = 1;
    if (full) {
      stream.next_out = reinterpret_cast<Bytef*>(&probe);
    } else {
      room = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, cap - produced));
      grow(member.bytes, static_cast<std::size_t>(produced) + room, static_cast<std::size_t>(cap));
      stream.next_out = reinterpret_cast<Bytef*>(member.bytes.data() + produced);
    }
    stream.avail_out = static_cast<uInt>(room);
    uInt available = stream.avail_in;
    int rc = inflate(&stream, Z_NO_FLUSH);
    std::size_t made = room - stream.avail_out;
    if (full && made > 0) {
      member.truncated = true;
      break;
    }
    produced += made;
    consumed += available - stream.avail_in;
    if (rc == Z_STREAM_END) {
      member.bytes.resize(static_cast<std::size_t>(produced));
      if (!matches_directory(entry, member, error)) return std::nullopt;
      return member;
    }
    if (rc == Z_BUF_ERROR) {  // no progress: all the compressed bytes were given
      error = "deflate data ends early";
      return std::nullopt;
    }
    if (rc != Z_OK) {
      error = std::string("damaged deflate data: ") + (stream.msg ? stream.msg : "zlib error");
      return std::nullopt;
    }
    if (produced > kRatioFloor &&
        produced / std::max<std::uint32_t>(limits_.max_ratio, 1) > consumed) {
      error = "member inflates more than " + std::to_string(limits_.max_ratio) +
              " times its compressed size (a ZIP bomb?)";
      return std::nullopt;
    }
  }
  member.bytes.resize(static_cast<std::size_t>(produced));
  return member;
}

JarIdentity identify_jar(const ZipArchive& jar, std::string_view file_name) {
  constexpr std::uint64_t kMaxPomBytes = 64 << 10;
  constexpr std::uint64_t kMaxManifestBytes = 256 << 10;  // the main section comes first
  auto [file_artifact, file_version] = name_and_version_from_file_name(file_name);
  JarIdentity identity;
  std::string error;

  // A shaded jar holds its dependencies' pom.properties too: take the only one, or the one of the
  // artifact the file is named after.
  const ZipEntry* only_pom = nullptr;
  const ZipEntry* named_pom = nullptr;
  std::size_t poms = 0;
  const ZipEntry* manifest = nullptr;
  for (const auto& entry : jar.entries()) {
    if (auto artifact = pom_artifact(entry.name)) {
      ++poms;
      only_pom = &entry;
      if (!named_pom && *artifact == file_artifact) named_pom = &entry;
    } else if (!manifest && equal_ignoring_case(entry.name, "META-INF/MANIFEST.MF")) {
      manifest = &entry;
    }
  }
  const ZipEntry* pom = named_pom ? named_pom : poms == 1 ? only_pom : nullptr;
  if (pom) {
    if (auto member = jar.read(*pom, kMaxPomBytes, error)) {
      identity = parse_pom_properties(member->bytes);
    }
  }
  if (manifest) {
    if (auto member = jar.read(*manifest, kMaxManifestBytes, error)) {
      auto attributes = parse_manifest(member->bytes);
      auto value = [&](std::string_view name) {
        return std::string(manifest_value(attributes, name).value_or(""));
      };
      if (identity.artifact_id.empty()) identity.artifact_id = value("Implementation-Title");
      if (identity.artifact_id.empty()) {
        std::string symbolic = value("Bundle-SymbolicName");  // "name;singleton:=true"
        identity.artifact_id = trim(std::string_view(symbolic).substr(0, symbolic.find(';')));
      }
      if (identity.version.empty()) identity.version = value("Implementation-Version");
      if (identity.version.empty()) identity.version = value("Bundle-Version");
      identity.main_class = value("Main-Class");
    }
  }
  if (identity.artifact_id.empty()) identity.artifact_id = file_artifact;
  if (identity.version.empty()) identity.version = file_version;
  return identity;
}

std::vector<std::pair<std::string, std::string>> parse_manifest(std::string_view text) {
  constexpr std::size_t kMaxAttributes = 4096;
  std::vector<std::pair<std::string, std::string>> attributes;
  bool continues = false;  // whether a continuation line extends the last attribute
  for_each_line(text, [&](std::string_view line) {
    if (line.empty()) return false;  // the main section ends at the first blank line
    if (line.front() == ' ') {
      if (continues) attributes.back().second.append(line.substr(1));
      return true;
    }
    std::size_t colon = line.find(':');
    continues = colon != 0 && colon != std::string_view::npos && attributes.size() < kMaxAttributes;
    if (!continues) return true;
    std::string_view value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    attributes.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    return true;
  });
  for (auto& [name, value] : attributes) {
    while (!value.empty() && is_space(value.back())) value.pop_back();
  }
  return attributes;
}

std::optional<std::string_view> manifest_value(
    const std::vector<std::pair<std::string, std::string>>& attributes, std::string_view name) {
  for (const auto& [key, value] : attributes) {
    if (equal_ignoring_case(key, name)) return value;
  }
  return std::nullopt;
}

JarIdentity parse_pom_properties(std::string_view text) {
  auto unescape = [](std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '\\' || i + 1 == s.size()) {
        out += s[i];
        continue;
      }
      char c = s[++i];
      out += c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c == 'f' ? '\f' : c;
    }
    return out;
  };
  JarIdentity identity;
  for_each_line(text, [&](std::string_view line) {
    line = trim(line);
    if (line.empty() || line.front() == '#' || line.front() == '!') return true;
    // The key ends at the first '=', ':' or blank that is not escaped.
    std::size_t end = 0;
    while (end < line.size() && line[end] != '=' && line[end] != ':' && !is_space(line[end])) {
      end += line[end] == '\\' ? 2 : 1;
    }
    end = std::min(end, line.size());
    std::string key = unescape(line.substr(0, end));
    std::string_view rest = trim(line.substr(end));
    if (!rest.empty() && (rest.front() == '=' || rest.front() == ':')) rest = trim(rest.substr(1));
    if (key == "groupId") identity.group_id = unescape(rest);
    if (key == "artifactId") identity.artifact_id = unescape(rest);
    if (key == "version") identity.version = unescape(rest);
    return true;
  });
  return identity;
}

std::pair<std::string, std::string> name_and_version_from_file_name(std::string_view file_name) {
  if (auto slash = file_name.rfind('/'); slash != std::string_view::npos) {
    file_name.remove_prefix(slash + 1);
  }
  for (std::string_view extension : {".jar", ".war", ".ear"}) {
    if (file_name.size() > extension.size() &&
        equal_ignoring_case(file_name.substr(file_name.size() - extension.size()), extension)) {
      file_name.remove_suffix(extension.size());
      break;
    }
  }
  for (std::size_t i = 1; i + 1 < file_name.size(); ++i) {
    if (file_name[i] == '-' && file_name[i + 1] >= '0' && file_name[i + 1] <= '9') {
      return {std::string(file_name.substr(0, i)), std::string(file_name.substr(i + 1))};
    }
  }
  return {std::string(file_name), ""};
}

}  // namespace hostprint::collectors
