// The SQLite RPM database reader of a build without SQLite (Meson option `rpmdb` disabled or
// SQLite not found): a database that is present is reported, never silently counted as empty.
#include "collectors/formats/rpm_sqlite.hpp"

namespace hostprint::collectors {

bool rpm_sqlite_reader_built() {
  return false;
}

SqliteScan read_rpmdb_sqlite(int, const std::function<bool(std::string_view)>&,
                             std::chrono::steady_clock::time_point) {
  SqliteScan scan;
  scan.failure = "RPM SQLite reader not built";
  return scan;
}

}  // namespace hostprint::collectors
