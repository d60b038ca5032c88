// The SQLite RPM database, read through a minimal SQLite VFS over one open file descriptor.
//
// Why a VFS of our own rather than a path: the file was opened inside the root (openat2
// RESOLVE_IN_ROOT). Handing SQLite a path, even /proc/self/fd/N, lets it resolve names itself
// (its unix VFS expands symlinks in xFullPathname: /proc/self/fd/N becomes the path readlink
// shows, which for a file of another mount namespace, a container's, can name another file here)
// and open companion files (-journal, -wal, -shm) by name next to it. This VFS opens nothing: the
// main database is the descriptor, every other file "does not exist", writes fail. With immutable=1
// SQLite takes no locks and reads no WAL, so a running rpm can neither block us nor be disturbed;
// what an unfinished transaction holds only in its WAL is seen at the next scan, after rpm's
// checkpoint (rpm checkpoints when it closes the database).
#include "collectors/formats/rpm_sqlite.hpp"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>

#include "collectors/formats/rpm_header.hpp"

namespace hostprint::collectors {
namespace {

constexpr const char* vfs_name = "hostprint-rpmdb-fd";

struct FdFile {
  sqlite3_file base;
  int fd;
};

// The descriptor belongs to the caller.
int fd_close(sqlite3_file*) {
  return SQLITE_OK;
}

int fd_read(sqlite3_file* file, void* buffer, int amount, sqlite3_int64 offset) {
  const int fd = reinterpret_cast<FdFile*>(file)->fd;
  auto* out = static_cast<char*>(buffer);
  std::size_t done = 0;
  const auto wanted = static_cast<std::size_t>(amount);
  while (done < wanted) {
    ssize_t n = ::pread(fd, out + done, wanted - done,
                        static_cast<off_t>(offset) + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return SQLITE_IOERR_READ;
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  if (done < wanted) {
    std::memset(out + done, 0, wanted - done);  // SQLite requires the rest zeroed
    return SQLITE_IOERR_SHORT_READ;
  }
  return SQLITE_OK;
}

int fd_write(sqlite3_file*, const void*, int, sqlite3_int64) {
  return SQLITE_READONLY;
}
int fd_truncate(sqlite3_file*, sqlite3_int64) {
  return SQLITE_READONLY;
}
int fd_sync(sqlite3_file*, int) {
  return SQLITE_OK;
}

int fd_file_size(sqlite3_file* file, sqlite3_int64* size) {
  struct stat st {};
  if (::fstat(reinterpret_cast<FdFile*>(file)->fd, &st) != 0) return SQLITE_IOERR_FSTAT;
  *size = static_cast<sqlite3_int64>(st.st_size);
  return SQLITE_OK;
}

int fd_lock(sqlite3_file*, int) {
  return SQLITE_OK;
}
int fd_unlock(sqlite3_file*, int) {
  return SQLITE_OK;
}
int fd_check_reserved_lock(sqlite3_file*, int* reserved) {
  *reserved = 0;
  return SQLITE_OK;
}
int fd_file_control(sqlite3_file*, int, void*) {
  return SQLITE_NOTFOUND;
}
int fd_sector_size(sqlite3_file*) {
  return 512;
}
int fd_device_characteristics(sqlite3_file*) {
  return SQLITE_IOCAP_IMMUTABLE;
}

const sqlite3_io_methods* fd_methods() {
  static const sqlite3_io_methods methods = [] {
    sqlite3_io_methods m{};
    m.iVersion = 1;
    m.xClose = fd_close;
    m.xRead = fd_read;
    m.xWrite = fd_write;
    m.xTruncate = fd_truncate;
    m.xSync = fd_sync;
    m.xFileSize = fd_file_size;
    m.xLock = fd_lock;
    m.xUnlock = fd_unlock;
    m.xCheckReservedLock = fd_check_reserved_lock;
    m.xFileControl = fd_file_control;
    m.xSectorSize = fd_sector_size;
    m.xDeviceCharacteristics = fd_device_characteristics;
    return m;
  }();
  return &methods;
}

int vfs_open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  file->pMethods = nullptr;
  if ((flags & SQLITE_OPEN_MAIN_DB) == 0 || name == nullptr) return SQLITE_CANTOPEN;
  const sqlite3_int64 fd = sqlite3_uri_int64(name, "fd", -1);
  if (fd < 0 || fd > 1 << 30) return SQLITE_CANTOPEN;
  auto* own = reinterpret_cast<FdFile*>(file);
  own->fd = static_cast<int>(fd);
  own->base.pMethods = fd_methods();
  if (out_flags) *out_flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_MAIN_DB;
  return SQLITE_OK;
}

int vfs_delete(sqlite3_vfs*, const char*, int) {
  return SQLITE_IOERR_DELETE;
}

int vfs_access(sqlite3_vfs*, const char*, int, int* result) {
  *result = 0;  // no journal, WAL or anything else exists beside the database
  return SQLITE_OK;
}

int vfs_full_pathname(sqlite3_vfs*, const char* name, int size, char* out) {
  const std::size_t length = std::strlen(name);
  if (size <= 0 || length >= static_cast<std::size_t>(size)) return SQLITE_CANTOPEN;
  std::memcpy(out, name, length + 1);  // taken as is: nothing is resolved
  return SQLITE_OK;
}

void* vfs_dl_open(sqlite3_vfs*, const char*) {
  return nullptr;
}
void vfs_dl_error(sqlite3_vfs*, int size, char* out) {
  if (size > 0) out[0] = '\0';
}
void (*vfs_dl_sym(sqlite3_vfs*, void*, const char*))(void) {
  return nullptr;
}
void vfs_dl_close(sqlite3_vfs*, void*) {}

sqlite3_vfs* default_vfs() {
  return sqlite3_vfs_find(nullptr);
}
int vfs_randomness(sqlite3_vfs*, int size, char* out) {
  return default_vfs()->xRandomness(default_vfs(), size, out);
}
int vfs_sleep(sqlite3_vfs*, int microseconds) {
  return default_vfs()->xSleep(default_vfs(), microseconds);
}
int vfs_current_time(sqlite3_vfs*, double* now) {
  return default_vfs()->xCurrentTime(default_vfs(), now);
}
int vfs_get_last_error(sqlite3_vfs*, int, char*) {
  return 0;
}

// Registered once for the process, never as the default.
bool register_vfs() {
  static sqlite3_vfs vfs = {};
  static int rc = SQLITE_ERROR;
  static std::once_flag once;
  std::call_once(once, [] {
    if (sqlite3_initialize() != SQLITE_OK || default_vfs() == nullptr) return;
    vfs.iVersion = 1;
    vfs.szOsFile = sizeof(FdFile);
    vfs.mxPathname = 512;
    vfs.zName = vfs_name;
    vfs.xOpen = vfs_open;
    vfs.xDelete = vfs_delete;
    vfs.xAccess = vfs_access;
    vfs.xFullPathname = vfs_full_pathname;
    vfs.xDlOpen = vfs_dl_open;
    vfs.xDlError = vfs_dl_error;
    vfs.xDlSym = vfs_dl_sym;
    vfs.xDlClose = vfs_dl_close;
    vfs.xRandomness = vfs_randomness;
    vfs.xSleep = vfs_sleep;
    vfs.xCurrentTime = vfs_current_time;
    vfs.xGetLastError = vfs_get_last_error;
    rc = sqlite3_vfs_register(&vfs, 0);
  });
  return rc == SQLITE_OK;
}

int past_deadline(void* deadline) {
  return std::chrono::steady_clock::now() >=
         *static_cast<const std::chrono::steady_clock::time_point*>(deadline);
}

}  // namespace

bool rpm_sqlite_reader_built() {
  return true;
}

SqliteScan read_rpmdb_sqlite(int fd, const std::function<bool(std::string_view blob)>& on_blob,
                             std::chrono::steady_clock::time_point deadline) {
  SqliteScan scan;
  if (!register_vfs()) {
    scan.failure = "SQLite could not be set up";
    return scan;
  }
  const std::string uri = "file:rpmdb.sqlite?immutable=1&fd=" + std::to_string(fd);
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(uri.c_str(), &raw,
                           SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, vfs_name);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, sqlite3_close);
  auto sqlite_failure = [&](const char* what) {
    scan.failure = std::string(what) + ": " + (db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc));
    return scan;
  };
  if (rc != SQLITE_OK) return sqlite_failure("cannot open");

  // The file is someone else's: no triggers, views or schema functions run on its behalf, every
  // cell is checked, and a blob is never materialised past the header bound.
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, nullptr);
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_ENABLE_VIEW, 0, nullptr);
  sqlite3_limit(db.get(), SQLITE_LIMIT_LENGTH, static_cast<int>(max_rpm_header_bytes + 4096));
  sqlite3_progress_handler(db.get(), 10000, past_deadline, &deadline);
  if (sqlite3_exec(db.get(), "PRAGMA cell_size_check = ON; PRAGMA cache_size = -4096;", nullptr,
                   nullptr, nullptr) != SQLITE_OK)
    return sqlite_failure("cannot read");

  sqlite3_stmt* raw_statement = nullptr;
  rc = sqlite3_prepare_v2(
      db.get(), "SELECT length(blob), CASE WHEN length(blob) <= ?1 THEN blob END FROM Packages", -1,
      &raw_statement, nullptr);
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> statement(raw_statement, sqlite3_finalize);
  if (rc != SQLITE_OK) return sqlite_failure("no Packages table");
  sqlite3_bind_int64(statement.get(), 1, static_cast<sqlite3_int64>(max_rpm_header_bytes));
  std::size_t seen = 0;
  while ((rc = sqlite3_step(statement.get())) == SQLITE_ROW) {
    if (++seen > max_rpmdb_rows) {
      scan.failure = "more than " + std::to_string(max_rpmdb_rows) + " rows; the rest skipped";
      return scan;
    }
    if (sqlite3_column_type(statement.get(), 1) == SQLITE_NULL) {
      if (sqlite3_column_int64(statement.get(), 0) > 0) {
        ++scan.oversized;
        continue;
      }
      ++scan.rows;
      if (!on_blob({})) return scan;  // a NULL blob: the caller reports it as malformed
      continue;
    }
    const void* bytes = sqlite3_column_blob(statement.get(), 1);
    const int size = sqlite3_column_bytes(statement.get(), 1);
    ++scan.rows;
    if (!on_blob(std::string_view(static_cast<const char*>(bytes), static_cast<std::size_t>(size))))
      return scan;
  }
  if (rc != SQLITE_DONE) {
    if (rc == SQLITE_INTERRUPT) {
      scan.failure = "deadline reached while reading";
      return scan;
    }
    return sqlite_failure("read stopped");
  }
  return scan;
}

}  // namespace hostprint::collectors
