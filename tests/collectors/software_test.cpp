#include "collectors/software.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/scan_chain.hpp"
#include "collectors/formats/package_stanzas.hpp"
#include "collectors/formats/rpm_bdb.hpp"
#include "collectors/formats/rpm_header.hpp"
#include "collectors/formats/rpm_sqlite.hpp"
#include "tests/package_fixtures.hpp"
#include "tests/temp_dir.hpp"

namespace hostprint::collectors {
namespace {

using namespace std::string_literals;
using test::dpkg_stanza;
using test::keys_of;

// ---------------------------------------------------------------- helpers

bool mentions(const std::vector<std::string>& errors, std::string_view text) {
  return std::any_of(errors.begin(), errors.end(),
                     [&](const std::string& e) { return e.find(text) != std::string::npos; });
}

std::string all_errors(const Outcome& outcome) {
  std::string out;
  for (const auto& e : outcome.errors) out += e + "\n";
  return out;
}

// An rpm header as rpm stores it in its database: index entries, then the data store, with
// integers aligned as rpm aligns them.
class HeaderBuilder {
 public:
  HeaderBuilder& string(std::int32_t tag, const std::string& value) {
    entries_.push_back({tag, 6, value + '\0', 1, 1});
    return *this;
  }
  HeaderBuilder& int32(std::int32_t tag, std::uint32_t value) {
    std::string bytes;
    put32(bytes, value);
    entries_.push_back({tag, 4, bytes, 1, 4});
    return *this;
  }
  HeaderBuilder& raw(std::int32_t tag, std::uint32_t type, const std::string& bytes,
                     std::uint32_t count, std::size_t align = 1) {
    entries_.push_back({tag, type, bytes, count, align});
    return *this;
  }
  std::string build() const {
    std::string index, data;
    for (const auto& e : entries_) {
      while (data.size() % e.align != 0) data.push_back('\0');
      put32(index, static_cast<std::uint32_t>(e.tag));
      put32(index, e.type);
      put32(index, static_cast<std::uint32_t>(data.size()));
      put32(index, e.count);
      data += e.bytes;
    }
    std::string blob;
    put32(blob, static_cast<std::uint32_t>(entries_.size()));
    put32(blob, static_cast<std::uint32_t>(data.size()));
    return blob + index + data;
  }
  static void put32(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
  }

 private:
  struct Entry {
    std::int32_t tag;
    std::uint32_t type;
    std::string bytes;
    std::uint32_t count;
    std::size_t align;
  };
  std::vector<Entry> entries_;
};

std::string rpm_header(const std::string& name, const std::string& version,
                       const std::string& release, const std::string& arch,
                       std::optional<std::uint32_t> epoch = std::nullopt) {
  HeaderBuilder b;
  b.raw(100, 8, "C\0"s, 1);  // HEADERI18NTABLE, as real headers start
  b.string(1000, name).string(1001, version).string(1002, release);
  if (epoch) b.int32(1003, *epoch);
  b.string(1004, "a summary");
  if (!arch.empty()) b.string(1022, arch);
  return b.build();
}

// Writes `value` at `at` of `blob`, big-endian.
void poke32(std::string& blob, std::size_t at, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) blob[at + i] = static_cast<char>(value >> (24 - 8 * i));
}

// A Berkeley DB hash database laid out as Berkeley DB 5.3 lays it out: meta page, one page per
// bucket (spares all 1: bucket b on page b+1), items back to front, large items on chains of
// overflow pages. The order of the records in the buckets does not matter to a reader that walks
// every bucket, so they are dealt round robin.
class BdbBuilder {
 public:
  std::uint32_t page_size = 512;
  bool big_endian = false;
  std::uint32_t buckets = 2;
  std::vector<std::pair<std::string, std::string>> records;

  std::string build() {
    pages_.assign(1 + buckets, std::string());
    for (std::uint32_t b = 0; b < buckets; ++b) new_hash_page(1 + b);
    std::vector<std::uint32_t> tail(buckets);
    for (std::uint32_t b = 0; b < buckets; ++b) tail[b] = 1 + b;
    for (std::size_t i = 0; i < records.size(); ++i) {
      std::uint32_t b = static_cast<std::uint32_t>(i % buckets);
      std::string key = item(records[i].first), data = item(records[i].second);
      if (!fits(tail[b], key.size() + data.size())) {
        std::uint32_t next = static_cast<std::uint32_t>(pages_.size());
        pages_.emplace_back();
        new_hash_page(next);
        put32(pages_[tail[b]], 16, next);
        put32(pages_[next], 12, tail[b]);
        tail[b] = next;
      }
      add_item(tail[b], key);
      add_item(tail[b], data);
    }
    std::string meta(page_size, '\0');
    put32(meta, 8, 0);
    put32(meta, 12, 0x061561);
    put32(meta, 16, 9);
    put32(meta, 20, page_size);
    meta[25] = 8;
    put32(meta, 32, static_cast<std::uint32_t>(pages_.size() - 1));
    put32(meta, 72, buckets - 1);
    for (int i = 0; i < 32; ++i) put32(meta, 96 + 4 * i, 1);
    pages_[0] = meta;
    std::string file;
    for (const auto& p : pages_) file += p;
    return file;
  }

  void put32(std::string& page, std::size_t at, std::uint32_t v) const {
    for (int i = 0; i < 4; ++i)
      page[at + i] = static_cast<char>(big_endian ? v >> (24 - 8 * i) : v >> (8 * i));
  }
  void put16(std::string& page, std::size_t at, std::uint32_t v) const {
    page[at + (big_endian ? 1 : 0)] = static_cast<char>(v);
    page[at + (big_endian ? 0 : 1)] = static_cast<char>(v >> 8);
  }
  std::uint32_t get16(const std::string& page, std::size_t at) const {
    auto b = [&](std::size_t i) {
      return static_cast<std::uint32_t>(static_cast<unsigned char>(page[at + i]));
    };
    return big_endian ? (b(0) << 8 | b(1)) : (b(1) << 8 | b(0));
  }

 private:
  void new_hash_page(std::uint32_t pgno) {
    std::string& page = pages_[pgno];
    page.assign(page_size, '\0');
    put32(page, 8, pgno);
    put16(page, 22, page_size);  // hf_offset: where free space ends
    page[25] = 13;
  }
  bool fits(std::uint32_t pgno, std::size_t bytes) const {
    const std::string& page = pages_[pgno];
    std::size_t entries = get16(page, 20), high = get16(page, 22);
    return 26 + 2 * (entries + 2) + bytes <= high;
  }
  void add_item(std::uint32_t pgno, const std::string& bytes) {
    std::string& page = pages_[pgno];
    std::size_t entries = get16(page, 20), high = get16(page, 22);
    std::size_t at = high - bytes.size();
    page.replace(at, bytes.size(), bytes);
    put16(page, 26 + 2 * entries, static_cast<std::uint32_t>(at));
    put16(page, 20, static_cast<std::uint32_t>(entries + 1));
    put16(page, 22, static_cast<std::uint32_t>(at));
  }
  // Inline when small, else a reference to a new overflow chain holding it.
  std::string item(const std::string& bytes) {
    if (bytes.size() + 1 <= page_size / 4) return "\1" + bytes;
    const std::size_t room = page_size - 26;
    std::uint32_t first = static_cast<std::uint32_t>(pages_.size());
    for (std::size_t done = 0; done < bytes.size(); done += room) {
      std::uint32_t pgno = static_cast<std::uint32_t>(pages_.size());
      std::string page(page_size, '\0');
      std::size_t length = std::min(room, bytes.size() - done);
      put32(page, 8, pgno);
      if (done > 0) put32(page, 12, pgno - 1);
      if (done + length < bytes.size()) put32(page, 16, pgno + 1);
      put16(page, 20, 1);
      put16(page, 22, static_cast<std::uint32_t>(length));
      page[25] = 7;
      page.replace(26, length, bytes.substr(done, length));
      pages_.push_back(page);
    }
    std::string ref(12, '\0');
    ref[0] = 3;  // H_OFFPAGE
    put32(ref, 4, first);
    put32(ref, 8, static_cast<std::uint32_t>(bytes.size()));
    return ref;
  }

  std::vector<std::string> pages_;
};

std::string key_of(std::uint32_t n) {
  return std::string(reinterpret_cast<const char*>(&n), 4);
}

struct BdbRead {
  BdbScan scan;
  std::vector<std::pair<std::string, std::string>> records;
};

BdbRead read_bdb(const std::string& file) {
  BdbRead out;
  ReadAt read_at = [&](std::uint64_t offset, std::span<char> into) -> std::optional<std::size_t> {
    if (offset >= file.size()) return 0;
    std::size_t n = std::min<std::size_t>(into.size(), file.size() - offset);
    std::copy_n(file.data() + offset, n, into.data());
    return n;
  };
  out.scan = read_bdb_hash(read_at, file.size(), [&](std::string_view key, std::string_view data) {
    out.records.emplace_back(std::string(key), std::string(data));
    return true;
  });
  return out;
}

// Starts a program with the file `input` on its standard input and its output discarded.
pid_t spawn_with_input(const std::vector<std::string>& argv, const std::filesystem::path& input) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int in = ::open(input.c_str(), O_RDONLY);
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(in, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

// Runs a program with `input` on its standard input; its exit code (127 when it cannot run).
int run_with_input(const std::vector<std::string>& argv, const std::string& input) {
  test::TempDir dir;
  pid_t pid = spawn_with_input(argv, dir.write("in", input));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

std::string hex(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

// Makes an SQLite database at `path` with the `sql` given, through the sqlite3 program.
void make_sqlite(const std::filesystem::path& path, const std::string& sql) {
  std::filesystem::create_directories(path.parent_path());
  ASSERT_EQ(run_with_input({"sqlite3", "-batch", "-bail", path.string()}, sql), 0)
      << "the sqlite3 program (Debian package sqlite3) made no database";
}

const char* rpmdb_schema =
    "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);\n";

std::string insert_blob(int hnum, std::string_view blob) {
  return "INSERT INTO Packages VALUES (" + std::to_string(hnum) + ", x'" + hex(blob) + "');\n";
}

struct Collected {
  Outcome outcome;
  std::vector<SoftwarePackage> packages;
};

Collected collect(const std::filesystem::path& root) {
  SoftwareCollector collector;
  ScanContext context;
  context.root = root;
  Collected out;
  out.outcome = collector.collect(context);
  if (collector.items()) out.packages = *collector.items();
  EXPECT_EQ(collector.item_count(), out.packages.size());
  return out;
}

std::vector<SoftwarePackage> of_manager(const std::vector<SoftwarePackage>& all,
                                        const std::string& manager) {
  std::vector<SoftwarePackage> out;
  for (const auto& p : all)
    if (p.manager == manager) out.push_back(p);
  return out;
}

// ---------------------------------------------------------------- rpm headers

TEST(SoftwareRpmHeader, ReadsTheIdentity) {
  auto parsed = parse_rpm_header(rpm_header("bash", "5.2.15", "2.fc38", "x86_64", 1));
  ASSERT_TRUE(parsed.header) << parsed.problem;
  EXPECT_EQ(parsed.header->name, "bash");
  EXPECT_EQ(parsed.header->version, "5.2.15");
  EXPECT_EQ(parsed.header->release, "2.fc38");
  EXPECT_EQ(parsed.header->arch, "x86_64");
  EXPECT_EQ(parsed.header->epoch, 1u);
  EXPECT_EQ(rpm_evr(*parsed.header), "1:5.2.15-2.fc38");

  auto no_epoch = parse_rpm_header(rpm_header("tzdata", "2024a", "1", "noarch"));
  ASSERT_TRUE(no_epoch.header);
  EXPECT_EQ(rpm_evr(*no_epoch.header), "2024a-1");
  auto zero_epoch = parse_rpm_header(rpm_header("z", "1", "1", "noarch", 0));
  ASSERT_TRUE(zero_epoch.header);
  EXPECT_EQ(rpm_evr(*zero_epoch.header), "0:1-1");  // present, so shown, as rpm's %{EVR} does
}

TEST(SoftwareRpmHeader, ArchMayBeMissingButNotTheRest) {
  auto pubkey = parse_rpm_header(rpm_header("gpg-pubkey", "8783d481", "63ceb953", ""));
  ASSERT_TRUE(pubkey.header);
  EXPECT_EQ(pubkey.header->arch, "");
  EXPECT_FALSE(
      parse_rpm_header(HeaderBuilder().string(1001, "1").string(1002, "1").build()).header);
  EXPECT_FALSE(
      parse_rpm_header(HeaderBuilder().string(1000, "n").string(1002, "1").build()).header);
  EXPECT_FALSE(
      parse_rpm_header(HeaderBuilder().string(1000, "n").string(1001, "1").build()).header);
  EXPECT_FALSE(
      parse_rpm_header(HeaderBuilder().string(1000, "").string(1001, "1").string(1002, "1").build())
          .header);
}

TEST(SoftwareRpmHeader, HostileHeadersAreRefused) {
  const std::string good = rpm_header("name", "1", "2", "x86_64", 3);
  ASSERT_TRUE(parse_rpm_header(good).header);
  auto refused = [](const std::string& blob) {
    auto parsed = parse_rpm_header(blob);
    return !parsed.header && !parsed.problem.empty();
  };
  EXPECT_TRUE(refused(""));
  EXPECT_TRUE(refused("\0\0\0"s));
  EXPECT_TRUE(refused(std::string(8, '\0')));  // no entries
  for (std::size_t n = 0; n < good.size(); ++n)
    EXPECT_TRUE(refused(good.substr(0, n))) << "truncated to " << n;
  EXPECT_TRUE(refused(good + "x"));  // longer than it says

  std::string lie = good;
  poke32(lie, 0, 0xffffffff);  // il * 16 would overflow 32 bits
  EXPECT_TRUE(refused(lie));
  lie = good;
  poke32(lie, 0, 0x00010000);  // past rpm's entry bound
  EXPECT_TRUE(refused(lie));
  lie = good;
  poke32(lie, 4, 0xfffffff0);  // data length far past the blob
  EXPECT_TRUE(refused(lie));
  lie = good;
  poke32(lie, 4, 1);
  EXPECT_TRUE(refused(lie));

  // Entry 1 is NAME: its offset, type and count.
  const std::size_t name_entry = 8 + 16;
  lie = good;
  poke32(lie, name_entry + 8, 0x7fffffff);  // offset past the data
  EXPECT_TRUE(refused(lie));
  lie = good;
  poke32(lie, name_entry + 8, 0x80000000);  // negative offset
  EXPECT_TRUE(refused(lie));
  lie = good;
  poke32(lie, name_entry + 4, 7);  // BIN, not STRING
  EXPECT_TRUE(refused(lie));
  lie = good;
  poke32(lie, name_entry + 12, 2);  // two strings for one name
  EXPECT_TRUE(refused(lie));

  // A string that runs to the end of the data without its NUL.
  std::string unterminated =
      HeaderBuilder().string(1001, "1").string(1002, "1").raw(1000, 6, "no-nul", 1).build();
  EXPECT_TRUE(refused(unterminated));
  // An overlong name.
  EXPECT_TRUE(refused(rpm_header(std::string(max_rpm_field_bytes + 1, 'n'), "1", "1", "x")));
  // EPOCH misaligned, out of the data, of the wrong type.
  HeaderBuilder base;
  base.string(1000, "n").string(1001, "1").string(1002, "1");
  EXPECT_TRUE(refused(HeaderBuilder(base).raw(1003, 4, "\0\0\0\1"s, 1, 1).build()));
  EXPECT_TRUE(refused(HeaderBuilder(base).raw(1003, 4, "\0\0"s, 1, 4).build()));
  EXPECT_TRUE(refused(HeaderBuilder(base).raw(1003, 6, "1\0\0\0"s, 1, 4).build()));
}

TEST(SoftwareRpmHeader, RandomAndMutatedBytesNeverEscapeTheBlob) {
  std::mt19937 random(20240601);
  auto byte = [&] { return static_cast<char>(random() & 0xff); };
  std::size_t accepted = 0;
  // Random blobs whose preamble is often consistent, so that the index is really walked.
  for (int round = 0; round < 20000; ++round) {
    std::uint32_t il = random() % 8, dl = random() % 64;
    std::string blob;
    HeaderBuilder::put32(blob, round % 3 == 0 ? static_cast<std::uint32_t>(random()) : il);
    HeaderBuilder::put32(blob, round % 5 == 0 ? static_cast<std::uint32_t>(random()) : dl);
    std::size_t body = 16 * il + dl + (round % 7 == 0 ? random() % 5 : 0);
    for (std::size_t i = 0; i < body; ++i) blob.push_back(byte());
    // Some entries with our tags and small offsets.
    for (std::uint32_t e = 0; e < il && round % 2 == 0; ++e) {
      poke32(blob, 8 + 16 * e, 1000 + random() % 4);
      poke32(blob, 8 + 16 * e + 4, 4 + random() % 3);
      poke32(blob, 8 + 16 * e + 8, random() % (dl + 2));
      poke32(blob, 8 + 16 * e + 12, random() % 3);
    }
    auto parsed = parse_rpm_header(blob);
    if (parsed.header) {
      ++accepted;
      EXPECT_LE(parsed.header->name.size(), blob.size());
      EXPECT_EQ(parsed.header->name.find('\0'), std::string::npos);
    } else {
      EXPECT_FALSE(parsed.problem.empty());
    }
  }
  // Mutations of a real-looking header.
  const std::string good = rpm_header("name", "1.0", "1.el9", "x86_64", 2);
  for (int round = 0; round < 20000; ++round) {
    std::string blob = good;
    for (int flips = 1 + random() % 4; flips > 0; --flips) blob[random() % blob.size()] = byte();
    auto parsed = parse_rpm_header(blob);
    if (parsed.header) {
      ++accepted;
      EXPECT_LE(parsed.header->name.size() + parsed.header->version.size(), blob.size());
    }
  }
  EXPECT_GT(accepted, 0u);
}

// ---------------------------------------------------------------- Berkeley DB

TEST(SoftwareRpmBdb, ReadsInlineAndOverflowItemsInBothByteOrders) {
  for (bool big_endian : {false, true}) {
    BdbBuilder b;
    b.big_endian = big_endian;
    b.buckets = 3;
    b.records.push_back({key_of(0), key_of(7)});  // rpm's counter record
    for (std::uint32_t i = 1; i <= 7; ++i) {
      // Headers of every size: inline, one overflow page, many overflow pages.
      std::string release(static_cast<std::size_t>(i) * i * 40, 'r');
      b.records.push_back({key_of(i), rpm_header("p" + std::to_string(i), "1", release, "noarch")});
    }
    b.records.push_back({key_of(8), "tiny"});
    auto read = read_bdb(b.build());
    EXPECT_TRUE(read.scan.failure.empty()) << read.scan.failure;
    EXPECT_EQ(read.scan.bad_items, 0u) << read.scan.first_bad_item;
    ASSERT_EQ(read.records.size(), b.records.size());
    std::map<std::string, std::string> got(read.records.begin(), read.records.end());
    for (const auto& [key, data] : b.records) EXPECT_EQ(got[key], data);
  }
}

TEST(SoftwareRpmBdb, ChainsSpanningSeveralHashPagesPerBucket) {
  BdbBuilder b;
  b.buckets = 1;
  for (std::uint32_t i = 1; i <= 200; ++i)
    b.records.push_back({key_of(i), "value" + std::to_string(i)});
  auto read = read_bdb(b.build());
  EXPECT_TRUE(read.scan.failure.empty());
  EXPECT_EQ(read.records.size(), 200u);
}

TEST(SoftwareRpmBdb, RefusesWhatIsNotARpmHashDatabase) {
  BdbBuilder b;
  b.records.push_back({key_of(1), "x"});
  const std::string good = b.build();
  auto failure_of = [](std::string file) { return read_bdb(file).scan.failure; };
  EXPECT_NE(failure_of(""), "");
  EXPECT_NE(failure_of(std::string(4096, '\0')), "");
  std::string btree = good;
  b.put32(btree, 12, 0x053162);
  EXPECT_NE(failure_of(btree).find("B-tree"), std::string::npos);
  std::string version = good;
  b.put32(version, 16, 4);
  EXPECT_NE(failure_of(version).find("version"), std::string::npos);
  for (std::uint32_t size : {0u, 256u, 513u, 131072u}) {
    std::string page_size = good;
    b.put32(page_size, 20, size);
    EXPECT_NE(failure_of(page_size).find("page size"), std::string::npos) << size;
  }
  std::string checksummed = good;
  checksummed[26] = 1;
  EXPECT_NE(failure_of(checksummed), "");
  std::string encrypted = good;
  encrypted[24] = 1;
  EXPECT_NE(failure_of(encrypted), "");
  std::string buckets = good;
  b.put32(buckets, 72, 0xfffffff0);  // more buckets than pages
  EXPECT_NE(failure_of(buckets), "");
}

TEST(SoftwareRpmBdb, LoopsAndBrokenChainsCostBoundedWork) {
  BdbBuilder b;
  b.buckets = 2;
  b.records.push_back({key_of(1), std::string(3000, 'a')});  // on an overflow chain
  b.records.push_back({key_of(2), "inline"});
  const std::string good = b.build();
  const std::size_t page = b.page_size;
  ASSERT_EQ(read_bdb(good).records.size(), 2u);

  // Bucket 1's hash page (page 2) names itself as the next page: read once.
  std::string loop = good;
  b.put32(loop, 2 * page + 16, 2);
  auto read = read_bdb(loop);
  EXPECT_EQ(read.records.size(), 2u);
  EXPECT_EQ(read.scan.bad_items, 1u);

  // Bucket 0's next page is past the end of the file.
  std::string past = good;
  b.put32(past, 1 * page + 16, 999999);
  read = read_bdb(past);
  EXPECT_EQ(read.scan.bad_items, 1u);

  // The overflow chain (pages 3...) loops back to its first page.
  std::string overflow_loop = good;
  b.put32(overflow_loop, 4 * page + 16, 3);
  read = read_bdb(overflow_loop);
  EXPECT_EQ(read.records.size(), 1u);
  EXPECT_EQ(read.scan.bad_items, 1u);

  // A link of the chain that is not full: a dribbling chain is not followed.
  std::string short_link = good;
  b.put16(short_link, 3 * page + 22, 1);
  read = read_bdb(short_link);
  EXPECT_EQ(read.records.size(), 1u);
  EXPECT_EQ(read.scan.bad_items, 1u);

  // An item claiming 2 GiB.
  std::string huge = good;
  std::size_t entries_at = 1 * page + 26;
  std::size_t data_item = b.get16(huge, entries_at + 2);
  b.put32(huge, 1 * page + data_item + 8, 0x7fffffff);
  read = read_bdb(huge);
  EXPECT_EQ(read.scan.bad_items, 1u);

  // Item offsets inside the index, or past the page.
  std::string offsets = good;
  b.put16(offsets, entries_at, 3);
  read = read_bdb(offsets);
  EXPECT_EQ(read.scan.bad_items, 1u);
  offsets = good;
  b.put16(offsets, 1 * page + 20, 400);  // more entries than the page holds
  read = read_bdb(offsets);
  EXPECT_EQ(read.scan.bad_items, 1u);

  // Item kinds rpm never writes (duplicates, off-page duplicates, external blobs).
  for (char kind : {2, 4, 5, 0, 9}) {
    std::string dup = good;
    dup[1 * page + data_item] = kind;
    read = read_bdb(dup);
    EXPECT_EQ(read.scan.bad_items, 1u);
  }
  std::string dup = good;
  dup[1 * page + data_item] = 2;
  read = read_bdb(dup);
  EXPECT_EQ(read.scan.bad_items, 1u);
}

TEST(SoftwareRpmBdb, AFileOverTheSizeBoundIsReadInItsFirstPagesAndReported) {
  BdbBuilder b;
  b.records.push_back({key_of(1), "v"});
  const std::string file = b.build();
  ReadAt read_at = [&](std::uint64_t offset, std::span<char> into) -> std::optional<std::size_t> {
    // A 3 GiB file whose pages past the built ones read as zeros (a sparse file).
    std::fill(into.begin(), into.end(), '\0');
    if (offset < file.size())
      std::copy_n(file.data() + offset, std::min<std::size_t>(into.size(), file.size() - offset),
                  into.data());
    return into.size();
  };
  int records = 0;
  auto scan =
      read_bdb_hash(read_at, std::uint64_t{3} << 30, [&](std::string_view, std::string_view) {
        ++records;
        return true;
      });
  EXPECT_EQ(records, 1);
  EXPECT_NE(scan.failure.find("larger than 2 GiB"), std::string::npos) << scan.failure;
}

TEST(SoftwareRpmBdb, TruncatedAndMutatedFilesNeverCrash) {
  BdbBuilder b;
  b.buckets = 4;
  for (std::uint32_t i = 1; i <= 12; ++i)
    b.records.push_back(
        {key_of(i), rpm_header("p" + std::to_string(i), "1", std::string(i * 60, 'r'), "x")});
  const std::string good = b.build();
  for (std::size_t n = 0; n < good.size(); n += 97) read_bdb(good.substr(0, n));
  std::mt19937 random(7);
  for (int round = 0; round < 3000; ++round) {
    std::string file = good;
    for (int flips = 1 + random() % 8; flips > 0; --flips)
      file[random() % file.size()] = static_cast<char>(random());
    auto read = read_bdb(file);
    EXPECT_LE(read.records.size(), 64u);
  }
}

TEST(SoftwareRpmBdb, TheCallbackStopsTheWalk) {
  BdbBuilder b;
  for (std::uint32_t i = 1; i <= 10; ++i) b.records.push_back({key_of(i), "v"});
  const std::string file = b.build();
  int calls = 0;
  ReadAt read_at = [&](std::uint64_t offset, std::span<char> into) -> std::optional<std::size_t> {
    std::size_t n =
        offset >= file.size() ? 0 : std::min<std::size_t>(into.size(), file.size() - offset);
    std::copy_n(file.data() + offset, n, into.data());
    return n;
  };
  read_bdb_hash(read_at, file.size(),
                [&](std::string_view, std::string_view) { return ++calls < 3; });
  EXPECT_EQ(calls, 3);
  auto failing = read_bdb_hash(
      [](std::uint64_t, std::span<char>) -> std::optional<std::size_t> { return std::nullopt; },
      1 << 20, [](std::string_view, std::string_view) { return true; });
  EXPECT_NE(failing.failure, "");
}

// ---------------------------------------------------------------- the collector

TEST(SoftwareCollector, AnEmptyRootIsZeroWithoutErrors) {
  test::TempDir root;
  std::filesystem::create_directories(root.path() / "var/lib/rpm");  // an empty rpm folder too
  auto got = collect(root.path());
  EXPECT_TRUE(got.outcome.complete);
  EXPECT_TRUE(got.outcome.errors.empty()) << all_errors(got.outcome);
  EXPECT_TRUE(got.packages.empty());
  // The control: a package database written in the same root is read.
  root.write("var/lib/dpkg/status", dpkg_stanza("kept", "amd64", "install ok installed"));
  got = collect(root.path());
  EXPECT_TRUE(got.outcome.complete) << all_errors(got.outcome);
  EXPECT_EQ(got.packages.size(), 1u);
}

TEST(SoftwareCollector, DpkgRoot) {
  test::TempDir root;
  root.write("var/lib/dpkg/status",
             dpkg_stanza("libc6", "amd64", "install ok installed", "2.36-9") +
                 dpkg_stanza("libc6", "i386", "install ok installed", "2.36-9") +
                 dpkg_stanza("old", "amd64", "deinstall ok config-files") + "Package: broken\n\n" +
                 "Package: tail\nStatus: install ok installed");
  root.write("var/lib/dpkg/status-old", dpkg_stanza("stale", "amd64", "install ok installed"));
  auto got = collect(root.path());
  EXPECT_TRUE(got.outcome.complete);
  ASSERT_EQ(got.outcome.errors.size(), 1u) << all_errors(got.outcome);
  EXPECT_NE(got.outcome.errors[0].find("1 malformed stanza"), std::string::npos);
  ASSERT_EQ(got.packages.size(), 3u);
  EXPECT_EQ(got.packages[0], (SoftwarePackage{"dpkg", "libc6", "2.36-9", "amd64"}));
  EXPECT_EQ(got.packages[1], (SoftwarePackage{"dpkg", "libc6", "2.36-9", "i386"}));
  EXPECT_EQ(got.packages[2], (SoftwarePackage{"dpkg", "tail", "", ""}));
}

TEST(SoftwareCollector, DpkgUpdatesJournalAppliesOnTopOfStatus) {
  test::TempDir root;
  root.write("var/lib/dpkg/status", dpkg_stanza("a", "amd64", "install ok installed") +
                                        dpkg_stanza("b", "amd64", "install ok unpacked") +
                                        dpkg_stanza("c", "amd64", "install ok installed"));
  root.write("var/lib/dpkg/updates/0000", dpkg_stanza("b", "amd64", "install ok installed", "2"));
  root.write("var/lib/dpkg/updates/0001", dpkg_stanza("c", "amd64", "deinstall ok config-files"));
  root.write("var/lib/dpkg/updates/0002", dpkg_stanza("d", "amd64", "install ok installed"));
  root.write("var/lib/dpkg/updates/tmp.i", dpkg_stanza("e", "amd64", "install ok installed"));
  auto got = collect(root.path());
  EXPECT_TRUE(got.outcome.errors.empty()) << all_errors(got.outcome);
  EXPECT_EQ(keys_of(got.packages),
            (std::set<std::string>{"a:amd64=1.0", "b:amd64=2", "d:amd64=1.0"}));
}

TEST(SoftwareCollector, AHugeStatusFileIsBounded) {
  test::TempDir root;
  auto path =
      root.write("var/lib/dpkg/status", dpkg_stanza("first", "amd64", "install ok installed") +
                                            "Package: cut\nStatus: install ok installed\n");
  // Far larger than any real one; sparse, so the test costs no disk.
  std::filesystem::resize_file(path, max_package_database_bytes + (64u << 20));
  auto got = collect(root.path());
  EXPECT_TRUE(got.outcome.complete);
  EXPECT_TRUE(mentions(got.outcome.errors, "larger than 128 MiB")) << all_errors(got.outcome);
  EXPECT_EQ(keys_of(got.packages), (std::set<std::string>{"first:amd64=1.0"}));
}

TEST(SoftwareCollector, SymlinksResolveInsideTheRoot) {
  test::TempDir outside;
  outside.write("status", dpkg_stanza("host-only", "amd64", "install ok installed"));
  test::TempDir root;
  std::filesystem::create_directories(root.path() / "var/lib/dpkg");
  std::filesystem::create_directories(root.path() / "lib/apk/db");
  // An absolute link to the host's own database, as a container image may hold.
  std::filesystem::create_symlink("/var/lib/dpkg/status", root.path() / "var/lib/dpkg/status");
  auto got = collect(root.path());
  EXPECT_TRUE(got.packages.empty());   // resolved to itself inside the root: never the host's
  EXPECT_FALSE(got.outcome.complete);  // a link loop is a source that cannot be read

  std::filesystem::remove(root.path() / "var/lib/dpkg/status");
  std::filesystem::create_symlink(outside.path() / "status", root.path() / "var/lib/dpkg/status");
  std::filesystem::create_symlink("../../../../../../../../" + (outside.path() / "status").string(),
                                  root.path() / "lib/apk/db/installed");
  got = collect(root.path());
  EXPECT_TRUE(got.outcome.complete);
  EXPECT_TRUE(got.packages.empty()) << keys_of(got.packages).size();

  std::filesystem::remove(root.path() / "var/lib/dpkg/status");
  root.write("srv/dpkg-status", dpkg_stanza("inside", "amd64", "install ok installed"));
  std::filesystem::create_symlink("/srv/dpkg-status", root.path() / "var/lib/dpkg/status");
  got = collect(root.path());
  EXPECT_EQ(keys_of(got.packages), (std::set<std::string>{"inside:amd64=1.0"}));
}

TEST(SoftwareCollector, AnUnreadableSourceKeepsTheLastGoodResult) {
  test::TempDir root;
  root.write("var/lib/dpkg/status", dpkg_stanza("a", "amd64", "install ok installed"));
  SoftwareCollector collector;
  ScanContext context;
  context.root = root.path();
  ASSERT_TRUE(collector.collect(context).complete);
  EXPECT_EQ(collector.item_count(), 1u);
  std::filesystem::remove(root.path() / "var/lib/dpkg/status");
  std::filesystem::create_directory(root.path() / "var/lib/dpkg/status");  // present, not a file
  auto outcome = collector.collect(context);
  EXPECT_FALSE(outcome.complete);
  EXPECT_FALSE(outcome.errors.empty());
  EXPECT_EQ(collector.item_count(), 1u);

  context.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  std::filesystem::remove(root.path() / "var/lib/dpkg/status");
  outcome = collector.collect(context);
  EXPECT_FALSE(outcome.complete);
  EXPECT_EQ(collector.item_count(), 1u);
}

TEST(SoftwareCollector, ApkRoot) {
  test::TempDir root;
  root.write("lib/apk/db/installed",
             "P:musl\nV:1.2.4-r2\nA:x86_64\nF:lib\nR:ld-musl-x86_64.so.1\n\n"
             "P:busybox\nV:1.36.1-r5\nA:x86_64\n\nV:1\n");
  auto got = collect(root.path());
  EXPECT_TRUE(got.outcome.complete);
  EXPECT_TRUE(mentions(got.outcome.errors, "lib/apk/db/installed: 1 malformed stanza"));
  EXPECT_EQ(got.packages.size(), 2u);
  EXPECT_EQ(got.packages[0], (SoftwarePackage{"apk", "busybox", "1.36.1-r5", "x86_64"}));
}

TEST(SoftwareCollector, AllManagersTogetherAreDistinctPerManager) {
  test::TempDir root;
  root.write("var/lib/dpkg/status", dpkg_stanza("zlib", "amd64", "install ok installed"));
  root.write("lib/apk/db/installed", "P:zlib\nV:1.3\nA:amd64\n");
  BdbBuilder b;
  b.records.push_back({key_of(1), rpm_header("zlib", "1.3", "1", "amd64")});
  root.write("var/lib/rpm/Packages", b.build());
  auto got = collect(root.path());
  EXPECT_TRUE(got.outcome.errors.empty()) << all_errors(got.outcome);
  ASSERT_EQ(got.packages.size(), 3u);
  EXPECT_EQ(got.packages[0].manager, "apk");
  EXPECT_EQ(got.packages[1].manager, "dpkg");
  EXPECT_EQ(got.packages[2].manager, "rpm");
}

TEST(SoftwareCollector, RpmBerkeleyDbRoot) {
  test::TempDir root;
  BdbBuilder b;
  b.buckets = 4;
  b.records.push_back({key_of(0), key_of(5)});
  b.records.push_back({key_of(1), rpm_header("bash", "4.4.20", "4.el8", "x86_64")});
  b.records.push_back({key_of(2), rpm_header("glibc", "2.28", "225.el8", "x86_64")});
  b.records.push_back({key_of(3), rpm_header("glibc", "2.28", "225.el8", "i686")});
  b.records.push_back({key_of(4), rpm_header("tzdata", "2023c", "1.el8", "noarch", 1)});
  b.records.push_back({key_of(5), rpm_header("gpg-pubkey", "fd431d51", "4ae0493b", "")});
  b.records.push_back({key_of(6), "not a header"});
  root.write("var/lib/rpm/Packages", b.build());
  auto got = collect(root.path());
  EXPECT_TRUE(got.outcome.complete);
  ASSERT_EQ(got.outcome.errors.size(), 1u) << all_errors(got.outcome);
  EXPECT_NE(got.outcome.errors[0].find("var/lib/rpm/Packages: 1 malformed package header"),
            std::string::npos)
      << got.outcome.errors[0];
  EXPECT_EQ(keys_of(got.packages),
            (std::set<std::string>{"bash:x86_64=4.4.20-4.el8", "glibc:x86_64=2.28-225.el8",
                                   "glibc:i686=2.28-225.el8", "tzdata:noarch=1:2023c-1.el8"}));
}

TEST(SoftwareCollector, ASymlinkedRpmFolderIsReadOnce) {
  test::TempDir root;
  BdbBuilder b;
  b.records.push_back({key_of(1), rpm_header("a", "1", "1", "noarch")});
  b.records.push_back({key_of(2), "junk"});  // its error shows how often the file was read
  root.write("usr/lib/sysimage/rpm/Packages", b.build());
  std::filesystem::create_directories(root.path() / "var/lib");
  std::filesystem::create_symlink("../../usr/lib/sysimage/rpm", root.path() / "var/lib/rpm");
  auto got = collect(root.path());
  EXPECT_EQ(got.outcome.errors.size(), 1u) << all_errors(got.outcome);
  EXPECT_EQ(got.packages.size(), 1u);

  std::filesystem::remove(root.path() / "var/lib/rpm");
  std::filesystem::create_symlink("/usr/lib/sysimage/rpm", root.path() / "var/lib/rpm");
  got = collect(root.path());
  EXPECT_EQ(got.outcome.errors.size(), 1u) << all_errors(got.outcome);

  // Two real folders: both are read.
  std::filesystem::remove(root.path() / "var/lib/rpm");
  BdbBuilder other;
  other.records.push_back({key_of(1), rpm_header("b", "1", "1", "noarch")});
  root.write("var/lib/rpm/Packages", other.build());
  got = collect(root.path());
  EXPECT_EQ(keys_of(got.packages), (std::set<std::string>{"a:noarch=1-1", "b:noarch=1-1"}));
}

TEST(SoftwareCollector, UnsupportedAndBrokenRpmDatabasesAreReported) {
  test::TempDir root;
  root.write("var/lib/dpkg/status", dpkg_stanza("still-counted", "amd64", "install ok installed"));
  root.write("usr/lib/sysimage/rpm/Packages.db", "RpmP....");
  std::string not_bdb;
  while (not_bdb.size() < 4096) not_bdb += "this is no Berkeley DB file\n";
  root.write("var/lib/rpm/Packages", not_bdb);
  auto got = collect(root.path());
  // Never read whole, so incomplete: no rpm package was ever seen, and the dpkg ones still count.
  EXPECT_FALSE(got.outcome.complete);
  EXPECT_TRUE(mentions(got.outcome.errors,
                       "usr/lib/sysimage/rpm/Packages.db: the ndb rpm database is not supported"))
      << all_errors(got.outcome);
  EXPECT_TRUE(mentions(got.outcome.errors, "var/lib/rpm/Packages: not a Berkeley DB hash database"))
      << all_errors(got.outcome);
  EXPECT_EQ(got.packages.size(), 1u);
}

TEST(SoftwareCollector, AFailedSourceKeepsItsLastGoodPackagesAndTheOthersAreFresh) {
  test::TempDir root;
  root.write("var/lib/dpkg/status", dpkg_stanza("a", "amd64", "install ok installed"));
  BdbBuilder b;
  b.buckets = 4;
  for (std::uint32_t i = 1; i <= 8; ++i)
    b.records.push_back({key_of(i), rpm_header("r" + std::to_string(i), "1", "1", "noarch")});
  const std::string good = b.build();
  root.write("var/lib/rpm/Packages", good);
  SoftwareCollector collector;
  ScanContext context;
  context.root = root.path();
  auto published = [&] {
    return *collector.items();
  };
  ASSERT_TRUE(collector.collect(context).complete);
  ASSERT_EQ(collector.item_count(), 9u);

  // The file cut in the middle of its pages: the chains lead past its end.
  root.write("var/lib/rpm/Packages", good.substr(0, good.size() / 2 + 100));
  root.write("var/lib/dpkg/status", dpkg_stanza("a", "amd64", "install ok installed") +
                                        dpkg_stanza("b", "amd64", "install ok installed"));
  auto outcome = collector.collect(context);
  EXPECT_FALSE(outcome.complete);
  EXPECT_TRUE(mentions(outcome.errors, "var/lib/rpm/Packages: ")) << all_errors(outcome);
  EXPECT_EQ(of_manager(published(), "rpm").size(), 8u);
  EXPECT_EQ(of_manager(published(), "dpkg").size(), 2u);

  // The dpkg database unreadable in turn, the rpm one whole again (one package fewer).
  std::filesystem::remove(root.path() / "var/lib/dpkg/status");
  std::filesystem::create_directory(root.path() / "var/lib/dpkg/status");
  b.records.pop_back();
  root.write("var/lib/rpm/Packages", b.build());
  outcome = collector.collect(context);
  EXPECT_FALSE(outcome.complete);
  EXPECT_EQ(of_manager(published(), "rpm").size(), 7u);
  EXPECT_EQ(of_manager(published(), "dpkg").size(), 2u);

  // Gone is not broken: a database that is no longer there counts nothing, completely.
  std::filesystem::remove(root.path() / "var/lib/dpkg/status");
  std::filesystem::remove(root.path() / "var/lib/rpm/Packages");
  outcome = collector.collect(context);
  EXPECT_TRUE(outcome.complete) << all_errors(outcome);
  EXPECT_EQ(collector.item_count(), 0u);
}

TEST(SoftwareCollector, RpmSqliteRoot) {
  test::TempDir root;
  std::string sql = rpmdb_schema;
  sql += insert_blob(1, rpm_header("bash", "5.2.15", "2.fc38", "x86_64"));
  sql += insert_blob(2, rpm_header("glibc", "2.37", "4.fc38", "x86_64"));
  sql += insert_blob(3, rpm_header("glibc", "2.37", "4.fc38", "i686"));
  sql += insert_blob(4, rpm_header("fedora-release", "38", "36", "noarch", 0));
  sql += insert_blob(5, rpm_header("gpg-pubkey", "eb10b464", "6202d9c6", ""));
  sql += insert_blob(6, "garbage");
  sql += "PRAGMA journal_mode = WAL;\n";
  make_sqlite(root.path() / "usr/lib/sysimage/rpm/rpmdb.sqlite", sql);
  std::filesystem::create_directories(root.path() / "var/lib");
  std::filesystem::create_symlink("../../usr/lib/sysimage/rpm", root.path() / "var/lib/rpm");
  // A Berkeley DB left over from the conversion is not read: SQLite is the database.
  BdbBuilder b;
  b.records.push_back({key_of(1), rpm_header("stale", "1", "1", "noarch")});
  root.write("usr/lib/sysimage/rpm/Packages", b.build());

  auto got = collect(root.path());
  EXPECT_TRUE(got.outcome.complete);
  if (!rpm_sqlite_reader_built()) {
    EXPECT_TRUE(mentions(got.outcome.errors, "RPM SQLite reader not built"))
        << all_errors(got.outcome);
    EXPECT_TRUE(got.packages.empty());
    return;
  }
  ASSERT_EQ(got.outcome.errors.size(), 1u) << all_errors(got.outcome);
  EXPECT_NE(got.outcome.errors[0].find("rpmdb.sqlite: 1 malformed package header"),
            std::string::npos);
  EXPECT_EQ(keys_of(got.packages),
            (std::set<std::string>{"bash:x86_64=5.2.15-2.fc38", "glibc:x86_64=2.37-4.fc38",
                                   "glibc:i686=2.37-4.fc38", "fedora-release:noarch=0:38-36"}));
  for (const auto& p : got.packages) EXPECT_EQ(p.manager, "rpm");
  // Nothing was written beside the database: no journal, WAL or shared memory file.
  EXPECT_FALSE(std::filesystem::exists(root.path() / "usr/lib/sysimage/rpm/rpmdb.sqlite-wal"));
  EXPECT_FALSE(std::filesystem::exists(root.path() / "usr/lib/sysimage/rpm/rpmdb.sqlite-shm"));
  EXPECT_FALSE(std::filesystem::exists(root.path() / "usr/lib/sysimage/rpm/rpmdb.sqlite-journal"));
}

TEST(SoftwareCollector, HostileSqliteDatabases) {
  if (!rpm_sqlite_reader_built()) GTEST_SKIP() << "built without the SQLite RPM reader";
  // `read_whole`: the table was read to its end, its odd rows skipped one by one (as rpm does).
  auto errors_for = [](const std::string& sql_or_bytes, bool raw, bool read_whole = false) {
    test::TempDir root;
    root.write("var/lib/dpkg/status", dpkg_stanza("kept", "amd64", "install ok installed"));
    auto path = root.path() / "var/lib/rpm/rpmdb.sqlite";
    if (raw) {
      root.write("var/lib/rpm/rpmdb.sqlite", sql_or_bytes);
    } else {
      make_sqlite(path, sql_or_bytes);
    }
    auto got = collect(root.path());
    EXPECT_EQ(got.outcome.complete, read_whole) << all_errors(got.outcome);
    EXPECT_EQ(of_manager(got.packages, "dpkg").size(), 1u);  // the other sources still count
    return all_errors(got.outcome);
  };
  EXPECT_NE(errors_for("not a database at all, just text", true).find("rpmdb.sqlite"),
            std::string::npos);
  EXPECT_NE(errors_for(std::string(), true).find("no Packages table"), std::string::npos);
  EXPECT_NE(errors_for("CREATE TABLE Other (x);", false).find("no Packages table"),
            std::string::npos);
  // A view would run the file's own SQL: views are off.
  EXPECT_NE(errors_for("CREATE TABLE t (blob); CREATE VIEW Packages AS SELECT blob FROM t;", false)
                .find("rpmdb.sqlite"),
            std::string::npos);
  // Rows that are no headers: NULL, text, an integer; and one past the size bound.
  std::string odd =
      "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB);"
      "INSERT INTO Packages VALUES (1, NULL), (2, 'text'), (3, 42);"
      "INSERT INTO Packages VALUES (4, zeroblob(" +
      std::to_string(max_rpm_header_bytes + 1) + "));";
  auto errors = errors_for(odd, false, true);
  EXPECT_NE(errors.find("3 malformed package headers"), std::string::npos) << errors;
  EXPECT_NE(errors.find("1 package header larger than 64 MiB"), std::string::npos) << errors;
  // A valid SQLite file cut in half.
  test::TempDir scratch;
  make_sqlite(scratch.path() / "db",
              std::string(rpmdb_schema) + insert_blob(1, rpm_header("a", "1", "1", "x")));
  std::ifstream in(scratch.path() / "db", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(errors_for(bytes.substr(0, bytes.size() / 2), true).find("rpmdb.sqlite"),
            std::string::npos);
}

TEST(SoftwareCollector, AWriterHoldingTheSqliteDatabaseBlocksNothing) {
  if (!rpm_sqlite_reader_built()) GTEST_SKIP() << "built without the SQLite RPM reader";
  test::TempDir root, scratch;
  const auto db = root.path() / "var/lib/rpm/rpmdb.sqlite";
  make_sqlite(db, rpmdb_schema + insert_blob(1, rpm_header("committed", "1", "1", "noarch")));
  // Another process holds the database's exclusive lock in the middle of a transaction, as rpm
  // does while it installs: an ordinary SQLite reader would wait or fail with SQLITE_BUSY.
  auto script = scratch.write("writer.sql",
                              "BEGIN EXCLUSIVE;\n" +
                                  insert_blob(2, rpm_header("uncommitted", "1", "1", "noarch")) +
                                  ".system sleep 60\nCOMMIT;\n");
  pid_t writer = spawn_with_input({"sqlite3", "-batch", db.string()}, script);
  const auto journal = db.string() + "-journal";
  for (int i = 0; i < 1000 && !std::filesystem::exists(journal); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(std::filesystem::exists(journal)) << "the writer never started its transaction";

  auto start = std::chrono::steady_clock::now();
  auto got = collect(root.path());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(got.outcome.errors.empty()) << all_errors(got.outcome);
  EXPECT_EQ(keys_of(got.packages), (std::set<std::string>{"committed:noarch=1-1"}));
  EXPECT_TRUE(std::filesystem::exists(journal));  // the writer's journal is left alone

  ::kill(writer, SIGKILL);
  while (::waitpid(writer, nullptr, 0) < 0 && errno == EINTR) {
  }
}

// An rpmdb.sqlite this build cannot read is an error, never zero packages: a build without the
// SQLite reader says so; one with it reports this cut-short file (it is no database).
TEST(SoftwareCollector, AnUnreadRpmSqliteDatabaseIsAnErrorNotZero) {
  test::TempDir root;
  root.write("var/lib/dpkg/status", dpkg_stanza("kept", "amd64", "install ok installed"));
  root.write("var/lib/rpm/rpmdb.sqlite", "SQLite format 3");
  auto got = collect(root.path());
  EXPECT_FALSE(got.outcome.complete);
  EXPECT_EQ(keys_of(got.packages), (std::set<std::string>{"kept:amd64=1.0"}))
      << "the other sources still count";
  if (rpm_sqlite_reader_built()) {
    EXPECT_TRUE(mentions(got.outcome.errors, "var/lib/rpm/rpmdb.sqlite"))
        << all_errors(got.outcome);
    EXPECT_FALSE(mentions(got.outcome.errors, "not built")) << all_errors(got.outcome);
  } else {
    EXPECT_TRUE(
        mentions(got.outcome.errors, "var/lib/rpm/rpmdb.sqlite: RPM SQLite reader not built"))
        << all_errors(got.outcome);
  }
}


// ---------------------------------------------------------------- unchanged rescans

namespace rescan {

using namespace std::chrono_literals;

// One collector over `root`, scanned again and again. Its racy window is none unless given, so
// that a file written just before is trusted (the window has its own test).
struct Rescans {
  explicit Rescans(const std::filesystem::path& root, std::chrono::nanoseconds window = 0ns)
      : collector(window) {
    context.root = root;
  }
  Outcome scan() { return collector.collect(context); }
  std::set<std::string> keys() const { return keys_of(*collector.items()); }
  SoftwareCollector collector;
  ScanContext context;
};

// Past the coarsest timestamp tick, so a change gets other times than the reading it follows.
void next_tick() { std::this_thread::sleep_for(30ms); }

// Overwrites `path` in place with as many bytes, then puts its modification time back.
void rewrite_in_place(const std::filesystem::path& path, const std::string& content) {
  struct stat before {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  ASSERT_EQ(static_cast<std::uintmax_t>(before.st_size), content.size());
  int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, content.data(), content.size(), 0),
            static_cast<ssize_t>(content.size()));
  const timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::futimens(fd, times), 0);
  ::close(fd);
}

}  // namespace rescan

TEST(SoftwareRescan, AnUnchangedRescanReusesThePackagesAndTheErrors) {
  test::TempDir root;
  root.write("var/lib/dpkg/status", dpkg_stanza("a", "amd64", "install ok installed") +
                                        "Package: broken\n\n" +
                                        dpkg_stanza("b", "amd64", "install ok unpacked"));
  root.write("var/lib/dpkg/updates/0000", dpkg_stanza("b", "amd64", "install ok installed"));
  root.write("lib/apk/db/installed", "P:musl\nV:1.2.4-r2\nA:x86_64\n\nV:1\n");
  BdbBuilder b;
  b.records.push_back({key_of(1), rpm_header("r", "1", "1", "noarch")});
  b.records.push_back({key_of(2), "junk"});
  root.write("usr/lib/sysimage/rpm/Packages", b.build());
  std::filesystem::create_directories(root.path() / "var/lib");
  std::filesystem::create_symlink("../../usr/lib/sysimage/rpm", root.path() / "var/lib/rpm");

  rescan::Rescans rescans(root.path());
  auto first = rescans.scan();
  ASSERT_TRUE(first.complete) << all_errors(first);
  EXPECT_EQ(first.errors.size(), 3u) << all_errors(first);
  EXPECT_EQ(rescans.collector.readings_done(), 3u);  // dpkg, rpm, apk
  const auto keys = rescans.keys();
  EXPECT_EQ(keys.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    auto again = rescans.scan();
    EXPECT_TRUE(again.complete);
    EXPECT_EQ(again.errors, first.errors);
    EXPECT_EQ(rescans.keys(), keys);
  }
  EXPECT_EQ(rescans.collector.readings_done(), 3u) << "an unchanged database was read again";
  // What a whole reading by a fresh collector reports.
  auto fresh = collect(root.path());
  EXPECT_EQ(fresh.outcome.errors, first.errors);
  EXPECT_EQ(keys_of(fresh.packages), keys);
}

TEST(SoftwareRescan, EveryChangeToTheDpkgDatabaseIsSeen) {
  test::TempDir root;
  const auto status = root.write("var/lib/dpkg/status",
                                 dpkg_stanza("aaaa", "amd64", "install ok installed") +
                                     dpkg_stanza("b", "amd64", "install ok unpacked"));
  std::filesystem::create_directories(root.path() / "var/lib/dpkg/updates");
  rescan::Rescans rescans(root.path());
  std::size_t reads = 0;
  // Scans, expecting the dpkg reader to have read (or not), and then an unchanged rescan that
  // reuses, so the next change is met by a trusted reading.
  auto scan = [&](bool reads_dpkg) {
    auto outcome = rescans.scan();
    EXPECT_TRUE(outcome.complete) << all_errors(outcome);
    if (reads_dpkg) ++reads;
    EXPECT_EQ(rescans.collector.readings_done(), reads + 2);
    rescans.scan();
    EXPECT_EQ(rescans.collector.readings_done(), reads + 2) << "the reading was not trusted";
    rescan::next_tick();
    return rescans.keys();
  };
  reads = 1;
  EXPECT_EQ(scan(false), (std::set<std::string>{"aaaa:amd64=1.0"}));

  // dpkg's way: a new file renamed over the status file.
  root.write("var/lib/dpkg/status-new", dpkg_stanza("aaaa", "amd64", "install ok installed") +
                                            dpkg_stanza("b", "amd64", "install ok installed"));
  std::filesystem::rename(root.path() / "var/lib/dpkg/status-new", status);
  EXPECT_EQ(scan(true), (std::set<std::string>{"aaaa:amd64=1.0", "b:amd64=1.0"}));

  // Rewritten in place, as large as it was, its modification time put back: the ctime moved.
  rescan::rewrite_in_place(status, dpkg_stanza("cccc", "amd64", "install ok installed") +
                                       dpkg_stanza("b", "amd64", "install ok installed"));
  EXPECT_EQ(scan(true), (std::set<std::string>{"cccc:amd64=1.0", "b:amd64=1.0"}));

  // A journal file appears, then another; then one is removed.
  root.write("var/lib/dpkg/updates/0000", dpkg_stanza("d", "amd64", "install ok installed"));
  EXPECT_EQ(scan(true), (std::set<std::string>{"cccc:amd64=1.0", "b:amd64=1.0", "d:amd64=1.0"}));
  root.write("var/lib/dpkg/updates/0001", dpkg_stanza("b", "amd64", "deinstall ok config-files"));
  EXPECT_EQ(scan(true), (std::set<std::string>{"cccc:amd64=1.0", "d:amd64=1.0"}));
  std::filesystem::remove(root.path() / "var/lib/dpkg/updates/0001");
  EXPECT_EQ(scan(true), (std::set<std::string>{"cccc:amd64=1.0", "b:amd64=1.0", "d:amd64=1.0"}));
  // A journal file rewritten in place.
  rescan::rewrite_in_place(root.path() / "var/lib/dpkg/updates/0000",
                           dpkg_stanza("e", "amd64", "install ok installed"));
  EXPECT_EQ(scan(true), (std::set<std::string>{"cccc:amd64=1.0", "b:amd64=1.0", "e:amd64=1.0"}));
  // The status file gone, then back.
  std::filesystem::rename(status, root.path() / "var/lib/dpkg/status-old");
  EXPECT_EQ(scan(true), (std::set<std::string>{}));
  std::filesystem::rename(root.path() / "var/lib/dpkg/status-old", status);
  EXPECT_EQ(scan(true), (std::set<std::string>{"cccc:amd64=1.0", "b:amd64=1.0", "e:amd64=1.0"}));
  // An apk database appearing is read too, and dpkg's stays reused.
  root.write("lib/apk/db/installed", "P:musl\nV:1\nA:x86_64\n");
  rescans.scan();
  EXPECT_EQ(rescans.keys().count("musl:x86_64=1"), 1u);
  EXPECT_EQ(rescans.collector.readings_done(), reads + 3);
}

TEST(SoftwareRescan, AFileChangedJustBeforeItsReadingIsReadAgain) {
  test::TempDir root;
  const auto status =
      root.write("var/lib/dpkg/status", dpkg_stanza("aaaa", "amd64", "install ok installed"));
  // The file's times are not older than the reading by the window: it is not trusted (the
  // absent rpm and apk databases are).
  rescan::Rescans rescans(root.path(), std::chrono::seconds(2));
  rescans.scan();
  rescans.scan();
  EXPECT_EQ(rescans.collector.readings_done(), 4u);
  // Why: a change in the same timestamp tick as the reading keeps size and times. Where the
  // filesystem's clock lets it happen here, the change must be seen all the same.
  int same_tick = 0;
  for (int attempt = 0; attempt < 50; ++attempt) {
    const std::string name = attempt % 2 ? "aaaa" : "bbbb";
    rescan::rewrite_in_place(status, dpkg_stanza(name, "amd64", "install ok installed"));
    struct stat before {};
    ASSERT_EQ(::stat(status.c_str(), &before), 0);
    rescans.scan();
    const std::string next = attempt % 2 ? "bbbb" : "aaaa";
    rescan::rewrite_in_place(status, dpkg_stanza(next, "amd64", "install ok installed"));
    struct stat after {};
    ASSERT_EQ(::stat(status.c_str(), &after), 0);
    if (after.st_ctim.tv_sec == before.st_ctim.tv_sec &&
        after.st_ctim.tv_nsec == before.st_ctim.tv_nsec)
      ++same_tick;
    rescans.scan();
    ASSERT_EQ(rescans.keys(), (std::set<std::string>{next + ":amd64=1.0"})) << attempt;
  }
  std::cout << "rewrites within the reading's timestamp tick: " << same_tick << " of 50\n";
}

TEST(SoftwareRescan, TheRpmSqliteWalAndShmAreWatched) {
  if (!rpm_sqlite_reader_built()) GTEST_SKIP() << "built without the SQLite RPM reader";
  test::TempDir root;
  const auto db = root.path() / "var/lib/rpm/rpmdb.sqlite";
  make_sqlite(db, rpmdb_schema + insert_blob(1, rpm_header("committed", "1", "1", "noarch")));
  rescan::Rescans rescans(root.path());
  std::size_t reads = 3;
  auto rescan_reads = [&](bool expected) {
    rescan::next_tick();
    auto outcome = rescans.scan();
    EXPECT_TRUE(outcome.complete) << all_errors(outcome);
    if (expected) ++reads;
    EXPECT_EQ(rescans.collector.readings_done(), reads);
    EXPECT_EQ(rescans.keys(), (std::set<std::string>{"committed:noarch=1-1"}));
  };
  rescans.scan();
  rescan_reads(false);
  root.write("var/lib/rpm/rpmdb.sqlite-wal", "a commit");  // appears
  rescan_reads(true);
  rescan_reads(false);
  root.write("var/lib/rpm/rpmdb.sqlite-wal", "a commit!");  // grows
  rescan_reads(true);
  rescan::rewrite_in_place(root.path() / "var/lib/rpm/rpmdb.sqlite-wal", "another!!");
  rescan_reads(true);
  root.write("var/lib/rpm/rpmdb.sqlite-shm", "index");
  rescan_reads(true);
  std::filesystem::remove(root.path() / "var/lib/rpm/rpmdb.sqlite-wal");  // checkpointed
  rescan_reads(true);
  rescan_reads(false);
}

TEST(SoftwareRescan, AFailedSourceIsReadAgainAtEveryScan) {
  test::TempDir root;
  BdbBuilder b;
  b.buckets = 4;
  for (std::uint32_t i = 1; i <= 8; ++i)
    b.records.push_back({key_of(i), rpm_header("r" + std::to_string(i), "1", "1", "noarch")});
  const std::string good = b.build();
  root.write("var/lib/rpm/Packages", good.substr(0, good.size() / 2 + 100));
  std::filesystem::create_directories(root.path() / "var/lib/dpkg/status");  // not a file
  rescan::Rescans rescans(root.path());
  for (std::size_t scan = 1; scan <= 3; ++scan) {
    auto outcome = rescans.scan();
    EXPECT_FALSE(outcome.complete);
    EXPECT_TRUE(mentions(outcome.errors, "var/lib/rpm/Packages: ")) << all_errors(outcome);
    EXPECT_TRUE(mentions(outcome.errors, "var/lib/dpkg/status: not a regular file"))
        << all_errors(outcome);
    // Both failed readings again; apk's absence is trusted from the second scan on.
    EXPECT_EQ(rescans.collector.readings_done(), 1 + 2 * scan);
  }
  // Whole again, and then trusted.
  rescan::next_tick();
  root.write("var/lib/rpm/Packages", good);
  std::filesystem::remove(root.path() / "var/lib/dpkg/status");
  EXPECT_TRUE(rescans.scan().complete);
  EXPECT_EQ(rescans.keys().size(), 8u);
  EXPECT_TRUE(rescans.scan().complete);
  EXPECT_EQ(rescans.keys().size(), 8u);
  EXPECT_EQ(rescans.collector.readings_done(), 9u);
}

}  // namespace
}  // namespace hostprint::collectors
