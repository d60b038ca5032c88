#pragma once
// The SQLite RPM database (`rpmdb.sqlite`, rpm 4.16 and later: Fedora 33+, RHEL 9+, Debian's rpm):
// table Packages(hnum INTEGER PRIMARY KEY, blob BLOB), one rpm header per row. Built only where
// SQLite is (Meson option `rpmdb`); elsewhere the reader reports that it is absent.
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace hostprint::collectors {

// Whether this build has the SQLite reader.
bool rpm_sqlite_reader_built();

struct SqliteScan {
  std::string failure;        // the database could not be (fully) read
  std::size_t rows = 0;       // blobs handed to the callback
  std::size_t oversized = 0;  // rows whose blob is larger than max_rpm_header_bytes, skipped
};

// A real system has a few thousand packages; a table with more rows than this is not read further.
constexpr std::size_t max_rpmdb_rows = 200000;

// Reads the blob of every row of Packages from the SQLite database open at `fd` (read-only, never
// written, locked or journaled: the file is read as immutable through the descriptor only, so
// nothing outside the root is ever opened). `on_blob` returns false to stop.
SqliteScan read_rpmdb_sqlite(
    int fd, const std::function<bool(std::string_view blob)>& on_blob,
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());

}  // namespace hostprint::collectors
