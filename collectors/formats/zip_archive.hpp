#pragma once
// A bounded reader of ZIP archives (JAR, WAR, EAR): the central directory, and members inflated
// into memory, for archives that someone else wrote and that may be hostile. Every size, offset
// and count read from the archive is checked against the archive's size before it is used, and
// every cost is bounded by ZipLimits, whatever the archive declares.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hostprint::collectors {

struct ZipLimits {
  std::size_t max_entries = 100'000;                // central directory entries listed
  std::size_t max_name_bytes = 4096;                // one entry's name; longer is refused
  std::uint64_t max_directory_bytes = 32ull << 20;  // central directory bytes read
  std::uint64_t max_member_bytes = 64ull << 20;     // one member inflated into memory
  std::uint64_t max_archive_bytes = 4ull << 30;     // archives larger than this are not opened
  std::uint32_t max_ratio = 1000;  // inflated / compressed, past which a member is a bomb
};

struct ZipEntry {
  std::string name;          // as stored: may hold "..", a leading '/' or NUL; never a path to open
  std::uint16_t method = 0;  // 0 stored, 8 deflated; others are listed but cannot be read
  bool encrypted = false;    // listed but cannot be read
  std::uint32_t crc32 = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t uncompressed_size = 0;  // as declared; reading never trusts it
  std::uint64_t local_header_offset = 0;
};

struct ZipMember {
  std::string bytes;
  bool truncated = false;  // the member is longer than the bound; `bytes` holds its first bytes
};

// One archive, either a file (by descriptor, not owned: keep it open while the archive is used;
// read with pread, never mapped) or bytes in memory (a nested archive, read with
// ZipArchive::read and opened with open_bytes; the caller bounds the depth).
class ZipArchive {
 public:
  // Reads the end records and the central directory. On failure returns nothing and says why.
  static std::optional<ZipArchive> open_file(int fd, const ZipLimits& limits, std::string& error);
  static std::optional<ZipArchive> open_bytes(std::string bytes, const ZipLimits& limits,
                                              std::string& error);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  bool truncated() const { return truncated_; }  // more entries than the limits let us list

  // The first entry named exactly `name`, if any.
  const ZipEntry* find(std::string_view name) const;

  // The member's content, at most min(max_bytes, limits.max_member_bytes) bytes. Fails on a
  // damaged or hostile member: a bad local header, data outside the archive, a ratio above
  // max_ratio, or (read whole) a size or CRC other than the directory's. One call costs at most
  // that bound; how many calls (and how deep in nested archives) is the caller's to bound.
  std::optional<ZipMember> read(const ZipEntry& entry, std::uint64_t max_bytes,
                                std::string& error) const;

 private:
  ZipArchive() = default;
  bool load(std::string& error);
  bool read_at(std::uint64_t offset, void* out, std::size_t size) const;
  bool find_directory(std::string& error);
  bool try_end_record(std::uint64_t position, const unsigned char* record, std::string& why);
  bool read_directory(std::string& error);
  bool check_no_overlap(std::string& error) const;
  std::optional<ZipMember> inflate_member(const ZipEntry& entry, std::uint64_t data_offset,
                                          std::uint64_t cap, std::string& error) const;

  int fd_ = -1;
  std::string bytes_;
  std::uint64_t size_ = 0;
  ZipLimits limits_;
  std::uint64_t base_ = 0;              // bytes before the archive proper (a launch script)
  std::uint64_t directory_offset_ = 0;  // from base_; member data lies before it
  std::uint64_t directory_size_ = 0;
  std::uint64_t declared_entries_ = 0;
  bool zip64_ = false;
  std::vector<ZipEntry> entries_;
  bool truncated_ = false;
};

// What a JAR says of itself: META-INF/maven/*/*/pom.properties, else META-INF/MANIFEST.MF, else
// its file name (name-1.2.3.jar); each field from the first source that has it.
struct JarIdentity {
  std::string group_id;     // from pom.properties
  std::string artifact_id;  // pom artifactId, Implementation-Title, Bundle-SymbolicName or name
  std::string version;      // pom version, Implementation-Version, Bundle-Version or name
  std::string main_class;   // Main-Class of the manifest, if any
};

// Reads the identity of `jar`, whose file name (or entry name, for a nested jar) is `file_name`.
// Members that cannot be read are passed over; never fails.
JarIdentity identify_jar(const ZipArchive& jar, std::string_view file_name);

// Parses a MANIFEST.MF (72-byte lines with continuation) into (name, value) pairs of its main
// section, names as written, at most 4096 pairs.
std::vector<std::pair<std::string, std::string>> parse_manifest(std::string_view text);
// The value of the first attribute named `name` (compared without case), if any.
std::optional<std::string_view> manifest_value(
    const std::vector<std::pair<std::string, std::string>>& attributes, std::string_view name);
// Parses a pom.properties (key=value or key: value, '#' and '!' comments, backslash escapes
// without line continuation) into its groupId, artifactId and version.
JarIdentity parse_pom_properties(std::string_view text);
// "spring-core-5.3.20.jar" -> {"spring-core", "5.3.20"}: the version starts at the first '-'
// followed by a digit; no version: {stem, ""}. A leading folder and .jar/.war/.ear are dropped.
std::pair<std::string, std::string> name_and_version_from_file_name(std::string_view file_name);

}  // namespace hostprint::collectors
