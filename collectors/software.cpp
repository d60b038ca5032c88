#include "collectors/software.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <tuple>
#include <utility>

#include "collectors/formats/apk.hpp"
#include "collectors/formats/dpkg.hpp"
#include "collectors/io/bounded_read.hpp"
#include "collectors/formats/rpm_bdb.hpp"
#include "collectors/formats/rpm_header.hpp"
#include "collectors/formats/rpm_sqlite.hpp"
#include "collectors/io/root_dir.hpp"

namespace hostprint::collectors {
namespace {

// Text cut at the bound ends in the middle of a stanza: keep the whole stanzas before it.
std::string_view whole_stanzas(std::string_view text) {
  auto lf = text.rfind("\n\n");
  auto crlf = text.rfind("\n\r\n");
  std::size_t end = 0;
  if (lf != std::string_view::npos) end = lf + 2;
  if (crlf != std::string_view::npos) end = std::max(end, crlf + 3);
  return text.substr(0, end);
}

std::string size_text(std::size_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " bytes";
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

constexpr int file_flags = O_RDONLY | O_NONBLOCK;  // as RootDir::read opens: a FIFO never blocks
constexpr int folder_flags = O_RDONLY | O_DIRECTORY | O_NONBLOCK;
constexpr std::size_t max_update_files = 10000;

// `relative` opened inside the root with `flags` and fstat'ed through that descriptor, which is
// handed to `keep` for reading.
SeenFile see(const RootDir& root, const std::string& relative, int flags, UniqueFd* keep) {
  SeenFile seen;
  seen.path = relative;
  seen.flags = flags;
  UniqueFd fd = root.open(relative, flags);
  struct stat st {};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
    seen.err = errno;
    return seen;
  }
  seen.mode = st.st_mode;
  seen.device = st.st_dev;
  seen.inode = st.st_ino;
  seen.size = st.st_size;
  seen.mtime = st.st_mtim;
  seen.ctime = st.st_ctim;
  if (keep) *keep = std::move(fd);
  return seen;
}

// The names in the folder open at `fd` (so the listing is of the folder whose identity was taken).
FolderEntries list_open_folder(const RootDir& root, int fd, const std::string& relative) {
  return RootDir::borrow(fd, root.display(relative)).list("", max_update_files);
}

bool missing(const SeenFile& seen) { return seen.err == ENOENT || seen.err == ENOTDIR; }

bool same(const SeenFile& a, const SeenFile& b) {
  if (missing(a) || missing(b)) return missing(a) && missing(b);
  auto key = [](const SeenFile& f) {
    return std::tie(f.err, f.device, f.inode, f.size, f.mtime.tv_sec, f.mtime.tv_nsec,
                    f.ctime.tv_sec, f.ctime.tv_nsec, f.names);
  };
  return a.err == 0 && key(a) == key(b);
}

std::chrono::nanoseconds since_epoch(const timespec& t) {
  return std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec);
}

}  // namespace

std::vector<SoftwarePackage> distinct_packages(std::vector<SoftwarePackage> packages) {
  auto key = [](const SoftwarePackage& p) { return std::tie(p.manager, p.name, p.architecture); };
  std::stable_sort(packages.begin(), packages.end(),
                   [&](const auto& a, const auto& b) { return key(a) < key(b); });
  auto last = std::unique(packages.begin(), packages.end(),
                          [&](const auto& a, const auto& b) { return key(a) == key(b); });
  packages.erase(last, packages.end());
  return packages;
}

namespace {

// One scan's reading of the sources: each source's packages, or that it failed.
class SoftwareScan {
 public:
  SoftwareScan(const ScanContext& context, Outcome& outcome, std::chrono::nanoseconds racy_window)
      : context_(context), outcome_(outcome), root_(context.root), racy_window_(racy_window) {}

  // One package manager's databases and the member that reads them.
  struct Reader {
    const char* name;
    void (SoftwareScan::*read)();
  };
  static const std::array<Reader, 3> readers;
  // Reads the databases of `reader`, noting in `reading` what it read.
  void read(const Reader& reader, SoftwareReading& reading);
  // Every file and folder `seen` names is as it was: reading them again would read the same.
  bool unchanged(const std::vector<SeenFile>& seen) const;
  // What each source read whole holds, by source ("dpkg", "apk", an rpm database folder).
  std::map<std::string, std::vector<SoftwarePackage>>& read() { return read_; }
  // The sources that are present but could not be read whole (opened, walked, understood).
  const std::set<std::string>& failed() const { return failed_; }

 private:
  // Reads a text database; nullopt when missing or failed (recorded).
  std::optional<std::string> read_text(const std::string& relative, std::size_t max_bytes);
  void read_dpkg();
  void read_rpm();
  void read_apk();
  // Opens `relative` as the readers do, noting it (or its absence) in the reading's fingerprint.
  SeenFile& note(const std::string& relative, int flags, UniqueFd* keep = nullptr) {
    return reading_->seen.emplace_back(see(root_, relative, flags, keep));
  }
  std::string open_error(const SeenFile& seen) const {
    return root_.display(seen.path) + ": " + std::strerror(seen.err);
  }
  void read_rpm_database(const std::string& relative, int fd, std::uint64_t size);
  void read_rpm_sqlite(const std::string& relative, int fd);
  void read_rpm_bdb(const std::string& relative, int fd, std::uint64_t size);
  // Turns one header blob into a package; counts the malformed and the pseudo-packages.
  void add_rpm_header(std::string_view blob);
  void report_rpm_headers(const std::string& relative);
  // Ends the reading of one source: its packages are taken unless it failed.
  void finish(const std::string& source);
  void fail_source(std::string message) {
    source_failed_ = true;
    outcome_.error(std::move(message));
  }

  const ScanContext& context_;
  Outcome& outcome_;
  RootDir root_;
  std::chrono::nanoseconds racy_window_;
  SoftwareReading* reading_ = nullptr;
  std::map<std::string, std::vector<SoftwarePackage>> read_;
  std::set<std::string> failed_;
  // The source being read.
  std::vector<SoftwarePackage> packages_;
  bool source_failed_ = false;
  std::size_t malformed_headers_ = 0;
  std::string first_header_problem_;
};

const std::array<SoftwareScan::Reader, 3> SoftwareScan::readers{{
    {"dpkg", &SoftwareScan::read_dpkg},
    {"rpm", &SoftwareScan::read_rpm},
    {"apk", &SoftwareScan::read_apk},
}};

void SoftwareScan::read(const Reader& reader, SoftwareReading& reading) {
  reading_ = &reading;
  const auto started = std::chrono::system_clock::now().time_since_epoch();
  const auto errors_before = outcome_.errors.size();
  (this->*reader.read)();
  reading.errors.assign(outcome_.errors.begin() + static_cast<std::ptrdiff_t>(errors_before),
                        outcome_.errors.end());
  // As git's index: a file changed within its timestamps' granularity after our fstat could keep
  // the same size and times, so one changed lately (2 s covers the coarsest) is read again.
  const auto racy = [&](const SeenFile& f) {
    return f.err == 0 && (since_epoch(f.mtime) >= started - racy_window_ ||
                          since_epoch(f.ctime) >= started - racy_window_);
  };
  reading.trusted =
      std::none_of(reading.sources.begin(), reading.sources.end(),
                   [&](const std::string& source) { return failed_.contains(source); }) &&
      std::none_of(reading.seen.begin(), reading.seen.end(), racy);
  reading_ = nullptr;
}

bool SoftwareScan::unchanged(const std::vector<SeenFile>& seen) const {
  return std::all_of(seen.begin(), seen.end(), [&](const SeenFile& was) {
    UniqueFd fd;
    auto now = see(root_, was.path, was.flags, &fd);
    if (now.err == 0 && (was.flags & O_DIRECTORY)) {
      auto listed = list_open_folder(root_, fd.get(), was.path);
      if (listed.status != ReadStatus::ok) return false;
      now.names = std::move(listed.names);
    }
    return same(was, now);
  });
}

void SoftwareScan::finish(const std::string& source) {
  reading_->sources.push_back(source);
  if (source_failed_) {
    failed_.insert(source);
  } else {
    auto& into = read_[source];
    into.insert(into.end(), std::make_move_iterator(packages_.begin()),
                std::make_move_iterator(packages_.end()));
  }
  packages_.clear();
  source_failed_ = false;
}

std::optional<std::string> SoftwareScan::read_text(const std::string& relative,
                                                   std::size_t max_bytes) {
  UniqueFd fd;
  const auto& seen = note(relative, file_flags, &fd);
  if (missing(seen)) return std::nullopt;
  if (seen.err != 0) {
    fail_source(open_error(seen));
    return std::nullopt;
  }
  auto read = read_open_file(fd.get(), root_.display(relative), max_bytes);
  if (read.status == ReadStatus::error) {
    fail_source(read.error);
    return std::nullopt;
  }
  if (read.file.truncated) {
    outcome_.error(relative + " is larger than " + size_text(max_bytes) +
                   "; only its first stanzas were read");
    read.file.text.resize(whole_stanzas(read.file.text).size());
  }
  return std::move(read.file.text);
}

void SoftwareScan::read_dpkg() {
  const std::string status_path = "var/lib/dpkg/status";
  auto status = read_text(status_path, max_package_database_bytes);
  if (!status) return finish("dpkg");
  std::vector<DpkgRecord> records;
  auto take = [&](const std::string& relative, std::string_view text) {
    auto parsed = parse_dpkg_status(text);
    if (parsed.malformed_stanzas > 0)
      outcome_.error(relative + ": " +
                     plural(parsed.malformed_stanzas, "malformed stanza", "malformed stanzas") +
                     " skipped");
    if (parsed.overlong_lines > 0)
      outcome_.error(relative + ": " + plural(parsed.overlong_lines, "line", "lines") +
                     " longer than 1 MiB cut");
    records.insert(records.end(), std::make_move_iterator(parsed.records.begin()),
                   std::make_move_iterator(parsed.records.end()));
  };
  take(status_path, *status);
  std::size_t budget =
      max_package_database_bytes - std::min(status->size(), max_package_database_bytes);
  status.reset();

  // dpkg's journal: stanzas written since the status file was last rewritten, which dpkg-query
  // applies on top of it (named by a number, read in name order; anything else is dpkg's scratch).
  // Without it the status file may name what is no longer installed: a journal that cannot be
  // listed fails the source.
  const std::string updates_path = "var/lib/dpkg/updates";
  UniqueFd folder;
  auto& seen = note(updates_path, folder_flags, &folder);
  FolderEntries updates;
  if (seen.err == 0) {
    updates = list_open_folder(root_, folder.get(), updates_path);
    seen.names = updates.names;
  } else if (!missing(seen)) {
    updates.status = ReadStatus::error;
    updates.error = open_error(seen);
  }
  if (updates.status == ReadStatus::error) fail_source(updates.error);
  if (updates.truncated)
    outcome_.error("var/lib/dpkg/updates: more than " + std::to_string(max_update_files) +
                   " files; the rest skipped");
  std::vector<std::string> journal;
  for (auto& name : updates.names)
    if (!name.empty() && name.size() <= 16 &&
        name.find_first_not_of("0123456789") == std::string::npos)
      journal.push_back(std::move(name));
  std::sort(journal.begin(), journal.end());
  for (const auto& name : journal) {
    if (budget == 0) {
      outcome_.error("var/lib/dpkg: status and updates larger than " +
                     std::to_string(max_package_database_bytes >> 20) +
                     " MiB together; the rest skipped");
      break;
    }
    const std::string relative = "var/lib/dpkg/updates/" + name;
    auto text = read_text(relative, budget);
    if (!text) continue;
    budget -= std::min(text->size(), budget);
    take(relative, *text);
  }
  packages_ = installed_dpkg_packages(records);
  finish("dpkg");
}

void SoftwareScan::read_apk() {
  const std::string path = "lib/apk/db/installed";
  auto text = read_text(path, max_package_database_bytes);
  if (!text) return finish("apk");
  auto parsed = parse_apk_installed(*text);
  if (parsed.malformed_stanzas > 0)
    outcome_.error(path + ": " +
                   plural(parsed.malformed_stanzas, "malformed stanza", "malformed stanzas") +
                   " skipped");
  if (parsed.overlong_lines > 0)
    outcome_.error(path + ": " + plural(parsed.overlong_lines, "line", "lines") +
                   " longer than 1 MiB cut");
  packages_ = std::move(parsed.packages);
  finish("apk");
}

void SoftwareScan::read_rpm() {
  // Fedora 36+ and openSUSE keep the database in usr/lib/sysimage/rpm with var/lib/rpm a symlink
  // to it; older systems in var/lib/rpm. A database file reached twice is read once: its
  // identity is taken from the descriptor it is read through, so no swap between can fool it.
  // Both folders are one reading, so whether the second is a duplicate is decided afresh.
  std::set<std::pair<dev_t, ino_t>> read_files;
  for (const char* folder : {"usr/lib/sysimage/rpm", "var/lib/rpm"}) {
    // One backend per folder, the one rpm itself would open: SQLite (rpm 4.16+) when present,
    // then ndb (openSUSE's Packages.db), then Berkeley DB; the others are leftovers of a
    // conversion.
    for (const char* file : {"rpmdb.sqlite", "Packages.db", "Packages"}) {
      const std::string relative = std::string(folder) + "/" + file;
      UniqueFd fd;
      const auto opened = note(relative, file_flags, &fd);
      if (missing(opened)) continue;
      if (opened.err != 0) {
        fail_source(open_error(opened));
      } else if (!S_ISREG(opened.mode)) {
        fail_source(root_.display(relative) + ": not a regular file");
      } else if (read_files.emplace(opened.device, opened.inode).second) {
        // A commit to the WAL changes the database without touching rpmdb.sqlite.
        if (relative.ends_with(".sqlite"))
          for (const char* companion : {"-wal", "-shm"}) note(relative + companion, O_PATH);
        read_rpm_database(relative, fd.get(), static_cast<std::uint64_t>(opened.size));
      }
      break;
    }
    finish(folder);
  }
}

void SoftwareScan::read_rpm_database(const std::string& relative, int fd, std::uint64_t size) {
  if (relative.ends_with("rpmdb.sqlite")) {
    read_rpm_sqlite(relative, fd);
  } else if (relative.ends_with("Packages.db")) {
    fail_source(relative + ": the ndb rpm database is not supported");
  } else {
    read_rpm_bdb(relative, fd, size);
  }
}
void SoftwareScan::add_rpm_header(std::string_view blob) {
  auto parsed = parse_rpm_header(blob);
  if (!parsed.header) {
    if (malformed_headers_++ == 0) first_header_problem_ = std::move(parsed.problem);
    return;
  }
  // Imported signing keys are stored as headers named gpg-pubkey; they are keys, not software
  // (rpm 4.19+ keeps them outside the database altogether).
  if (parsed.header->name == "gpg-pubkey") return;
  packages_.push_back({"rpm", parsed.header->name, rpm_evr(*parsed.header), parsed.header->arch});
}

void SoftwareScan::report_rpm_headers(const std::string& relative) {
  if (malformed_headers_ > 0)
    outcome_.error(
        relative + ": " +
        plural(malformed_headers_, "malformed package header", "malformed package headers") +
        " skipped (the first: " + first_header_problem_ + ")");
  malformed_headers_ = 0;
  first_header_problem_.clear();
}

void SoftwareScan::read_rpm_sqlite(const std::string& relative, int fd) {
  for (int attempt = 1;; ++attempt) {
    const std::size_t found_before = packages_.size();
    auto scan = read_rpmdb_sqlite(
        fd,
        [&](std::string_view blob) {
          add_rpm_header(blob);
          return true;
        },
        context_.deadline);
    // Reading takes no lock, so it can meet rpm checkpointing its WAL into the file: a read that
    // fails midway is tried once more, from the start, before it is reported.
    if (!scan.failure.empty() && attempt == 1 && rpm_sqlite_reader_built() && !context_.expired()) {
      packages_.erase(packages_.begin() + static_cast<std::ptrdiff_t>(found_before),
                      packages_.end());
      malformed_headers_ = 0;
      first_header_problem_.clear();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    report_rpm_headers(relative);
    if (scan.oversized > 0)
      outcome_.error(relative + ": " + plural(scan.oversized, "package header", "package headers") +
                     " larger than 64 MiB skipped");
    // A database that cannot be read to its end (cut, overwritten, not a database, no
    // Packages table) holds packages that were not seen: the source failed.
    if (!scan.failure.empty()) fail_source(relative + ": " + scan.failure);
    return;
  }
}

void SoftwareScan::read_rpm_bdb(const std::string& relative, int fd, std::uint64_t size) {
  ReadAt read_at = [fd](std::uint64_t offset, std::span<char> into) -> std::optional<std::size_t> {
    std::size_t done = 0;
    while (done < into.size()) {
      ssize_t n =
          ::pread(fd, into.data() + done, into.size() - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return std::nullopt;
      }
      if (n == 0) break;
      done += static_cast<std::size_t>(n);
    }
    return done;
  };
  auto scan = read_bdb_hash(
      read_at, size,
      [&](std::string_view key, std::string_view data) {
        // Key 0 holds rpm's counter of header numbers, not a header.
        if (key == std::string_view("\0\0\0\0", 4)) return true;
        add_rpm_header(data);
        return true;
      },
      context_.deadline);
  report_rpm_headers(relative);
  // A broken page or chain (or a length past any header: a damaged reference) hides the packages
  // behind it, and a file that is no hash database hides them all: the source failed.
  if (scan.bad_items > 0)
    fail_source(relative + ": " + plural(scan.bad_items, "item", "items") +
                " unreadable (the first: " + scan.first_bad_item + ")");
  if (!scan.failure.empty()) fail_source(relative + ": " + scan.failure);
}

}  // namespace

Outcome SoftwareCollector::collect(const ScanContext& context) {
  Outcome outcome;
  SoftwareScan scan(context, outcome, racy_window_);
  const auto& last = *items();
  auto last_packages = [&](const std::string& source) {
    std::vector<SoftwarePackage> kept;
    if (auto at = by_source_.find(source); at != by_source_.end())
      for (auto i : at->second)
        if (i < last.size()) kept.push_back(last[i]);
    return kept;
  };
  // A reader whose files are all as at its last trusted reading is not read again: its packages
  // are the ones published then, and its errors are reported again.
  std::map<std::string, SoftwareReading> readings;
  std::vector<std::string> reused;
  bool read_any = false;
  for (const auto& reader : SoftwareScan::readers) {
    auto was = last_readings_.find(reader.name);
    if (was != last_readings_.end() && scan.unchanged(was->second.seen)) {
      for (const auto& error : was->second.errors) outcome.error(error);
      reused.insert(reused.end(), was->second.sources.begin(), was->second.sources.end());
      readings.insert(*was);
    } else {
      ++readings_done_;
      read_any = true;
      scan.read(reader, readings[reader.name]);
    }
  }
  if (context.expired()) {
    outcome.fail("deadline reached before every package database was read");
    return outcome;
  }
  if (!read_any) return outcome;  // the list published stands as it is
  // A source that failed (present, but not read whole: cut mid-write, overwritten, a format we
  // cannot read) keeps its last good packages, and the sources read whole are taken fresh. Each
  // manager's part is then the newest exact reading of its own database; keeping the whole last
  // result instead would also throw away a correct fresh reading of the others. The outcome is
  // incomplete, so the failure is reported and last_success stays at the last whole reading.
  auto sources = std::move(scan.read());
  for (const auto& source : reused) sources[source] = last_packages(source);
  for (const auto& source : scan.failed()) {
    outcome.complete = false;
    sources[source] = last_packages(source);
  }
  std::vector<SoftwarePackage> all;
  for (const auto& [source, packages] : sources) all.insert(all.end(), packages.begin(), packages.end());
  auto published = distinct_packages(std::move(all));
  // Each source's packages are remembered as positions in the list published, not as a copy.
  const auto key = [](const SoftwarePackage& p) {
    return std::tie(p.manager, p.name, p.architecture);
  };
  std::map<std::string, std::vector<std::uint32_t>> positions;
  for (const auto& [source, packages] : sources) {
    auto& at = positions[source];
    for (const auto& p : packages) {
      auto it = std::lower_bound(published.begin(), published.end(), p,
                                 [&](const auto& a, const auto& b) { return key(a) < key(b); });
      if (it != published.end() && key(*it) == key(p))
        at.push_back(static_cast<std::uint32_t>(it - published.begin()));
    }
  }
  by_source_ = std::move(positions);
  std::erase_if(readings, [](const auto& r) { return !r.second.trusted; });
  last_readings_ = std::move(readings);
  replace(std::move(published));
  return outcome;
}

}  // namespace hostprint::collectors
