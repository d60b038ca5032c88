#pragma once
// A small, bounded reader of the Berkeley DB hash format, enough for the `Packages` file of the
// RPM databases before SQLite (RHEL/CentOS up to 8, SLES up to 15, Fedora up to 32): the meta page,
// the bucket chains of hash pages, and overflow chains for the large items (rpm headers).
// Checksummed, encrypted, B-tree and duplicate-holding databases are refused; rpm never wrote them.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "collectors/formats/rpm_header.hpp"

namespace hostprint::collectors {

// Reads up to `into.size()` bytes of the file at `offset`: the count read (fewer only at the end
// of the file), or nullopt on an I/O error.
using ReadAt =
    std::function<std::optional<std::size_t>(std::uint64_t offset, std::span<char> into)>;

// Every key/data pair, in bucket order; returning false stops the walk.
using OnRecord = std::function<bool(std::string_view key, std::string_view data)>;

struct BdbScan {
  std::string failure;         // the database as a whole could not be (fully) walked
  std::size_t bad_items = 0;   // items or chains skipped as malformed or unsupported
  std::string first_bad_item;  // what was wrong with the first of them
  std::size_t records = 0;     // pairs handed to the callback
};

// Bounds: a file is read up to 2 GiB (2^22 pages of 512 bytes at most, one bit each to catch
// chains that loop); an item larger than max_rpm_header_bytes is skipped; every overflow page but
// the last of a chain must be full, so a chain costs at most its item's size; all overflow chains
// together may read at most 4 times the file's pages.
constexpr std::uint64_t max_bdb_file_bytes = std::uint64_t{2} << 30;

BdbScan read_bdb_hash(
    const ReadAt& read_at, std::uint64_t file_size, const OnRecord& on_record,
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());

}  // namespace hostprint::collectors
