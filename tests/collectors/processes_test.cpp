// The pure parts of the processes collector: suffix stripping, /proc entry names, getdents64
// records, and the split between remembered and fresh pids.
#include "collectors/processes.hpp"

#include <gtest/gtest.h>

#include "collectors/formats/java_args.hpp"
#include "collectors/formats/proc_text.hpp"
#include "collectors/formats/python_dist.hpp"
#include "collectors/formats/version_text.hpp"
#include "collectors/io/root_glob.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "tests/scan_chain.hpp"

namespace hostprint::collectors {
namespace {

TEST(ParsePidName, AcceptsPids) {
  EXPECT_EQ(parse_pid_name("1"), 1);
  EXPECT_EQ(parse_pid_name("42"), 42);
  EXPECT_EQ(parse_pid_name("4194304"), 4194304);
  EXPECT_EQ(parse_pid_name("2147483647"), 2147483647);
}

TEST(ParsePidName, RejectsEverythingElse) {
  for (const char* name :
       {"", "0", "00", "012", "self", "thread-self", "sys", "1a", "a1", "-1", "+1", " 1", "1 ",
        "1.0", "2147483648", "9999999999", "99999999999", "18446744073709551617"})
    EXPECT_FALSE(parse_pid_name(name).has_value()) << '"' << name << '"';
}

// Lays out linux_dirent64 records as getdents64 does: 8-byte aligned, NUL-terminated names.
class DirentBuffer {
 public:
  DirentBuffer& add(std::uint64_t inode, const std::string& name, unsigned char type = 4) {
    std::size_t length = (19 + name.size() + 1 + 7) & ~std::size_t{7};
    std::size_t at = bytes_.size();
    bytes_.resize(at + length, std::byte{0});
    std::int64_t offset = static_cast<std::int64_t>(at + length);
    auto reclen = static_cast<std::uint16_t>(length);
    std::memcpy(&bytes_[at], &inode, 8);
    std::memcpy(&bytes_[at + 8], &offset, 8);
    std::memcpy(&bytes_[at + 16], &reclen, 2);
    std::memcpy(&bytes_[at + 18], &type, 1);
    std::memcpy(&bytes_[at + 19], name.data(), name.size());
    return *this;
  }
  std::vector<std::byte>& bytes() { return bytes_; }
  void set_reclen(std::size_t at, std::uint16_t reclen) {
    std::memcpy(&bytes_[at + 16], &reclen, 2);
  }

 private:
  std::vector<std::byte> bytes_;
};

TEST(ParseProcDirents, KeepsPidEntriesWithTheirInodes) {
  DirentBuffer buffer;
  buffer.add(1, ".").add(1, "..").add(1066, "1").add(4026531840ULL, "self", 10);
  buffer.add(2088, "2").add(99, "thread-self", 10).add(0xFFFFFFFFFFULL, "31337").add(5, "0");
  buffer.add(7, "sys").add(8, "012");
  std::vector<ProcEntry> out;
  ASSERT_TRUE(parse_proc_dirents(buffer.bytes(), out));
  std::vector<ProcEntry> expected{{1, 1066}, {2, 2088}, {31337, 0xFFFFFFFFFFULL}};
  EXPECT_EQ(out, expected);
}

TEST(ParseProcDirents, AppendsToWhatIsThere) {
  DirentBuffer buffer;
  buffer.add(20, "20");
  std::vector<ProcEntry> out{{10, 10}};
  ASSERT_TRUE(parse_proc_dirents(buffer.bytes(), out));
  EXPECT_EQ(out, (std::vector<ProcEntry>{{10, 10}, {20, 20}}));
}

TEST(ParseProcDirents, EmptyBufferIsNoEntries) {
  std::vector<ProcEntry> out;
  EXPECT_TRUE(parse_proc_dirents({}, out));
  EXPECT_TRUE(out.empty());
}

TEST(ParseProcDirents, RejectsATruncatedHeader) {
  DirentBuffer buffer;
  buffer.add(10, "10");
  auto& bytes = buffer.bytes();
  std::vector<ProcEntry> out;
  EXPECT_FALSE(parse_proc_dirents(std::span(bytes.data(), 12), out));
}

TEST(ParseProcDirents, RejectsARecordLongerThanTheBuffer) {
  DirentBuffer buffer;
  buffer.add(10, "10").add(11, "11");
  buffer.set_reclen(24, 200);
  std::vector<ProcEntry> out;
  EXPECT_FALSE(parse_proc_dirents(buffer.bytes(), out));
  EXPECT_EQ(out, (std::vector<ProcEntry>{{10, 10}}));  // what came before the bad record
}

TEST(ParseProcDirents, RejectsAZeroOrTinyRecordLength) {
  for (std::uint16_t reclen : {0, 1, 19}) {
    DirentBuffer buffer;
    buffer.add(10, "10");
    buffer.set_reclen(0, reclen);
    std::vector<ProcEntry> out;
    EXPECT_FALSE(parse_proc_dirents(buffer.bytes(), out)) << reclen;
    EXPECT_TRUE(out.empty());
  }
}

TEST(ParseProcDirents, RejectsANameWithoutItsNul) {
  DirentBuffer buffer;
  buffer.add(10, "1234");  // 19 + 5 bytes, padded to 24
  auto& bytes = buffer.bytes();
  for (std::size_t i = 19; i < 24; ++i) bytes[i] = std::byte{'7'};
  std::vector<ProcEntry> out;
  EXPECT_FALSE(parse_proc_dirents(bytes, out));
}

TEST(Reconcile, KeepsSamePidAndInodeAndReadsTheRest) {
  std::vector<KnownProcess> known{
      {1, false, 100, 5}, {5, false, 500, 50}, {7, true, 700, 2}, {9, false, 900, 90}};
  std::vector<ProcEntry> listed{{1, 100}, {5, 501}, {6, 600}, {7, 700}, {12, 1200}};
  auto r = reconcile(known, listed);
  EXPECT_EQ(r.kept, (std::vector<KnownProcess>{{1, false, 100, 5}, {7, true, 700, 2}}));
  EXPECT_EQ(r.fresh, (std::vector<ProcEntry>{{5, 501}, {6, 600}, {12, 1200}}));
}

TEST(Reconcile, ForgetsPidsNoLongerListed) {
  std::vector<KnownProcess> known{{1, false, 100, 5}, {2, false, 200, 6}, {3, false, 300, 7}};
  std::vector<ProcEntry> listed{{2, 200}};
  auto r = reconcile(known, listed);
  EXPECT_EQ(r.kept, (std::vector<KnownProcess>{{2, false, 200, 6}}));
  EXPECT_TRUE(r.fresh.empty());
}

TEST(Reconcile, SameInodeUnderAnotherPidIsAnotherProcess) {
  std::vector<KnownProcess> known{{4, false, 444, 5}};
  std::vector<ProcEntry> listed{{5, 444}};
  auto r = reconcile(known, listed);
  EXPECT_TRUE(r.kept.empty());
  EXPECT_EQ(r.fresh, listed);
}

TEST(Reconcile, NeverTrustsTheInodeOfAFailedInstantiation) {
  // procfs reports inode 1 when it could not make the entry's inode.
  std::vector<KnownProcess> known{{4, false, 1, 5}, {6, false, 0, 5}};
  std::vector<ProcEntry> listed{{4, 1}, {6, 0}};
  auto r = reconcile(known, listed);
  EXPECT_TRUE(r.kept.empty());
  EXPECT_EQ(r.fresh, listed);
}

TEST(Reconcile, EverythingIsFreshAtFirst) {
  std::vector<ProcEntry> listed{{1, 10}, {2, 20}};
  auto r = reconcile({}, listed);
  EXPECT_TRUE(r.kept.empty());
  EXPECT_EQ(r.fresh, listed);
  auto none = reconcile({}, {});
  EXPECT_TRUE(none.kept.empty());
  EXPECT_TRUE(none.fresh.empty());
}

TEST(ReadWholeTable, OnlyWhenMostPidsAreFresh) {
  EXPECT_TRUE(read_whole_table(10000, 10000));
  EXPECT_TRUE(read_whole_table(6250, 10000));
  EXPECT_FALSE(read_whole_table(6249, 10000));
  EXPECT_FALSE(read_whole_table(1, 10000));
  EXPECT_TRUE(read_whole_table(1, 1));
}

TEST(IsKernelThread, LooksAtPfKthreadOnly) {
  EXPECT_TRUE(is_kernel_thread(0x00208040));   // kthreadd's flags
  EXPECT_TRUE(is_kernel_thread(0x04208060));   // a worker
  EXPECT_FALSE(is_kernel_thread(0x00400100));  // a user process
  EXPECT_FALSE(is_kernel_thread(0x0040800c));  // a zombie
  EXPECT_FALSE(is_kernel_thread(0));
}

TEST(ProcessesCollector, StartsEmptyAndPublishesItsListShared) {
  ProcessesCollector collector;
  EXPECT_EQ(collector.name(), "processes");
  EXPECT_EQ(collector.item_count(), 0u);
  proto::AssetSet first;
  proto::AssetSet second;
  collector.publish(first);
  collector.publish(second);
  ASSERT_NE(test::part_of<proto::ProcessInfo>(first), nullptr);
  EXPECT_TRUE(test::part_of<proto::ProcessInfo>(first)->empty());
  EXPECT_EQ(test::part_of<proto::ProcessInfo>(first), test::part_of<proto::ProcessInfo>(second));
}

}  // namespace
}  // namespace hostprint::collectors
