#include "collectors/formats/rpm_bdb.hpp"

#include <array>
#include <vector>

namespace hostprint::collectors {
namespace {

// Berkeley DB on-disk constants (db_page.h of Berkeley DB 4.x and 5.x).
constexpr std::uint32_t hash_magic = 0x061561;
constexpr std::uint32_t btree_magic = 0x053162;
constexpr std::size_t page_header_bytes =
    26;  // lsn, pgno, prev, next, entries, hf_offset, level, type
constexpr std::uint8_t page_hash_unsorted = 2;
constexpr std::uint8_t page_overflow = 7;
constexpr std::uint8_t page_hash_meta = 8;
constexpr std::uint8_t page_hash = 13;
constexpr std::uint8_t item_keydata = 1;
constexpr std::uint8_t item_offpage = 3;  // H_OFFPAGE (4 is H_OFFDUP)
constexpr std::uint8_t meta_flag_checksum = 0x01;
constexpr std::size_t spare_count = 32;

class Walker {
 public:
  Walker(const ReadAt& read_at, std::uint64_t file_size, const OnRecord& on_record,
         std::chrono::steady_clock::time_point deadline)
      : read_at_(read_at), file_size_(file_size), on_record_(on_record), deadline_(deadline) {}

  BdbScan run() {
    walk();
    if (oversized_ && scan_.failure.empty())
      scan_.failure = "larger than 2 GiB; only its beginning was read";
    return std::move(scan_);
  }

 private:
  void walk() {
    if (!read_meta()) return;
    std::vector<bool> seen(page_count_, false);
    seen[0] = true;
    for (std::uint64_t bucket = 0; bucket <= max_bucket_; ++bucket) {
      std::uint64_t pgno = bucket + spares_[ceil_log2(bucket + 1)];
      while (pgno != 0) {
        if (std::chrono::steady_clock::now() >= deadline_) {
          scan_.failure = "deadline reached while reading";
          return;
        }
        if (pgno >= page_count_ || seen[pgno]) {
          bad("bucket " + std::to_string(bucket) + " leads to page " + std::to_string(pgno) +
              (pgno >= page_count_ ? ", past the end of the file" : ", already read"));
          break;
        }
        seen[pgno] = true;
        auto next = read_hash_page(pgno);
        if (stopped_ || !scan_.failure.empty()) return;
        if (!next) break;
        pgno = *next;
      }
    }
  }

  static std::size_t ceil_log2(std::uint64_t n) {
    std::size_t log = 0;
    while ((std::uint64_t{1} << log) < n) ++log;
    return log;
  }

  std::uint32_t u32(std::string_view bytes, std::size_t at) const {
    auto b = [&](std::size_t i) {
      return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + i]));
    };
    return big_endian_ ? (b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3))
                       : (b(3) << 24 | b(2) << 16 | b(1) << 8 | b(0));
  }
  std::uint16_t u16(std::string_view bytes, std::size_t at) const {
    auto b = [&](std::size_t i) {
      return static_cast<std::uint16_t>(static_cast<unsigned char>(bytes[at + i]));
    };
    return static_cast<std::uint16_t>(big_endian_ ? (b(0) << 8 | b(1)) : (b(1) << 8 | b(0)));
  }

  void bad(std::string what) {
    if (scan_.bad_items++ == 0) scan_.first_bad_item = std::move(what);
  }

  // Reads exactly `into.size()` bytes at `offset`.
  bool read_exactly(std::uint64_t offset, std::span<char> into) {
    auto got = read_at_(offset, into);
    if (!got) {
      scan_.failure = "read error at offset " + std::to_string(offset);
      return false;
    }
    return *got == into.size();
  }

  bool read_meta() {
    std::string meta(512, '\0');
    if (!read_exactly(0, meta)) {
      if (scan_.failure.empty()) scan_.failure = "shorter than a Berkeley DB meta page";
      return false;
    }
    // The file is in the byte order of the machine that wrote it; the magic number tells which.
    auto magic_in = [&](bool big_endian) {
      big_endian_ = big_endian;
      return u32(meta, 12);
    };
    if (magic_in(false) != hash_magic && magic_in(true) != hash_magic) {
      bool btree = magic_in(false) == btree_magic || magic_in(true) == btree_magic;
      scan_.failure = btree ? "a Berkeley DB B-tree, not the hash database rpm writes"
                            : "not a Berkeley DB hash database";
      return false;
    }
    const std::uint32_t version = u32(meta, 16);
    if (version != 8 && version != 9) {
      scan_.failure = "Berkeley DB hash version " + std::to_string(version) + " not supported";
      return false;
    }
    page_size_ = u32(meta, 20);
    if (page_size_ < 512 || page_size_ > 65536 || (page_size_ & (page_size_ - 1)) != 0) {
      scan_.failure = "page size " + std::to_string(page_size_) + " out of range";
      return false;
    }
    if (meta[24] != 0 || static_cast<std::uint8_t>(meta[25]) != page_hash_meta ||
        (static_cast<std::uint8_t>(meta[26]) & meta_flag_checksum) != 0) {
      scan_.failure = "encrypted, checksummed or not a hash meta page";
      return false;
    }
    std::uint64_t readable = file_size_;
    if (readable > max_bdb_file_bytes) {
      oversized_ = true;  // reported at the end: what lies in the first 2 GiB still counts
      readable = max_bdb_file_bytes;
    }
    const std::uint64_t last_pgno = u32(meta, 32);
    page_count_ = std::min(readable / page_size_, last_pgno + 1);
    max_bucket_ = u32(meta, 72);
    if (page_count_ < 2 || max_bucket_ >= page_count_) {
      scan_.failure = "meta page names " + std::to_string(max_bucket_ + 1) + " buckets in " +
                      std::to_string(page_count_) + " pages";
      return false;
    }
    for (std::size_t i = 0; i < spare_count; ++i) spares_[i] = u32(meta, 96 + 4 * i);
    overflow_budget_ = 4 * page_count_;
    page_.resize(page_size_);
    overflow_page_.resize(page_size_);
    return true;
  }

  // Reads the hash page `pgno` and hands over its pairs; the next page of the bucket's chain.
  std::optional<std::uint64_t> read_hash_page(std::uint64_t pgno) {
    if (!read_exactly(pgno * page_size_, page_)) {
      if (scan_.failure.empty()) bad("page " + std::to_string(pgno) + " cut short");
      return std::nullopt;
    }
    const std::string_view page = page_;
    const auto type = static_cast<std::uint8_t>(page[25]);
    if ((type != page_hash && type != page_hash_unsorted) || u32(page, 8) != pgno) {
      bad("page " + std::to_string(pgno) + " in a bucket chain is not a hash page");
      return std::nullopt;
    }
    const std::size_t entries = u16(page, 20);
    const std::size_t index_end = page_header_bytes + 2 * entries;
    if (index_end > page_size_) {
      bad("page " + std::to_string(pgno) + " has more entries than fit");
      return std::nullopt;
    }
    std::size_t end = page_size_;  // items lie back to front: item i ends where item i-1 begins
    std::string_view pair[2];
    for (std::size_t i = 0; i < entries; ++i) {
      const std::size_t start = u16(page, page_header_bytes + 2 * i);
      if (start < index_end || start >= end) {
        bad("page " + std::to_string(pgno) + " has an item outside its bounds");
        return std::nullopt;
      }
      pair[i % 2] = page.substr(start, end - start);
      end = start;
      if (i % 2 == 1 && !deliver(pair[0], pair[1], pgno)) return std::nullopt;
    }
    return u32(page, 16);
  }

  // The bytes of one item: inline, or assembled from its overflow chain into `storage`.
  std::optional<std::string_view> item_bytes(std::string_view item, std::string& storage,
                                             std::uint64_t pgno) {
    const auto type = static_cast<std::uint8_t>(item[0]);
    if (type == item_keydata) return item.substr(1);
    if (type != item_offpage) {
      bad("page " + std::to_string(pgno) + " holds an item of kind " + std::to_string(type) +
          " (duplicates or external blobs), which rpm never writes");
      return std::nullopt;
    }
    if (item.size() < 12) {
      bad("page " + std::to_string(pgno) + " has a short overflow reference");
      return std::nullopt;
    }
    std::uint64_t next = u32(item, 4);
    const std::uint32_t total = u32(item, 8);
    if (total > max_rpm_header_bytes) {
      bad("an item of " + std::to_string(total) + " bytes, larger than any rpm header");
      return std::nullopt;
    }
    storage.clear();
    storage.reserve(total);
    const std::size_t full = page_size_ - page_header_bytes;
    while (storage.size() < total) {
      if (next == 0 || next >= page_count_ || overflow_budget_ == 0) {
        bad(overflow_budget_ == 0 ? "overflow chains read more pages than the file holds"
                                  : "an overflow chain ends early or leaves the file");
        return std::nullopt;
      }
      --overflow_budget_;
      if (!read_exactly(next * page_size_, overflow_page_)) {
        if (scan_.failure.empty()) bad("overflow page " + std::to_string(next) + " cut short");
        return std::nullopt;
      }
      const std::string_view page = overflow_page_;
      const std::size_t length = u16(page, 22);
      const std::size_t wanted = total - storage.size();
      // Every page but the last is full: a chain that loops or dribbles is caught at once.
      if (static_cast<std::uint8_t>(page[25]) != page_overflow || length == 0 || length > full ||
          (length < full && length != wanted) || length > wanted) {
        bad("overflow page " + std::to_string(next) + " is not a consistent link of its chain");
        return std::nullopt;
      }
      storage.append(page.substr(page_header_bytes, length));
      next = u32(page, 16);
    }
    return std::string_view(storage);
  }

  bool deliver(std::string_view key_item, std::string_view data_item, std::uint64_t pgno) {
    auto key = item_bytes(key_item, key_storage_, pgno);
    if (!scan_.failure.empty()) return false;
    if (!key) return true;
    auto data = item_bytes(data_item, data_storage_, pgno);
    if (!scan_.failure.empty()) return false;
    if (!data) return true;
    ++scan_.records;
    if (!on_record_(*key, *data)) {
      stopped_ = true;
      return false;
    }
    return true;
  }

  const ReadAt& read_at_;
  std::uint64_t file_size_;
  const OnRecord& on_record_;
  std::chrono::steady_clock::time_point deadline_;
  BdbScan scan_;
  bool big_endian_ = false;
  bool stopped_ = false;
  bool oversized_ = false;
  std::uint64_t page_size_ = 0;
  std::uint64_t page_count_ = 0;
  std::uint64_t max_bucket_ = 0;
  std::array<std::uint64_t, spare_count> spares_{};
  std::uint64_t overflow_budget_ = 0;
  std::string page_, overflow_page_, key_storage_, data_storage_;
};

}  // namespace

BdbScan read_bdb_hash(const ReadAt& read_at, std::uint64_t file_size, const OnRecord& on_record,
                      std::chrono::steady_clock::time_point deadline) {
  return Walker(read_at, file_size, on_record, deadline).run();
}

}  // namespace hostprint::collectors
