// The software collector against real package databases: RPM databases written by Debian's own
// rpm (packages built by rpmbuild here, installed with rpm --root into a temporary root), a
// Berkeley DB made from their headers by Berkeley DB's db_load and read back by rpm's bdb_ro
// backend, and this machine's dpkg database against dpkg-query. The truth is always what the real
// tool reports.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <boost/json.hpp>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/scan_chain.hpp"
#include "collectors/formats/rpm_sqlite.hpp"
#include "collectors/software.hpp"
#include "tests/temp_dir.hpp"
#include "tests/live_skip.hpp"

namespace hostprint::collectors {
namespace {

namespace fs = std::filesystem;

struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a program to completion with its output in files (nothing can block on a full pipe).
Run run(const std::vector<std::string>& argv,
        const std::vector<std::pair<std::string, std::string>>& env = {}) {
  test::TempDir dir;
  const fs::path out_path = dir.path() / "out", err_path = dir.path() / "err";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    for (const auto& [name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  Run result;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  result.out = slurp(out_path);
  result.err = slurp(err_path);
  return result;
}

std::string describe(const Run& r) {
  return "exit " + std::to_string(r.exit_code) + "\n" + r.out + "\n" + r.err;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto tab = line.find('\t', start);
    out.push_back(line.substr(start, tab - start));
    if (tab == std::string::npos) return out;
    start = tab + 1;
  }
}

// "name:arch=version" for one package, the form both sides are compared in.
std::string key(const std::string& name, const std::string& arch, const std::string& version) {
  return name + ":" + arch + "=" + version;
}

std::set<std::string> keys_of(const std::vector<SoftwarePackage>& packages,
                              const std::string& manager) {
  std::set<std::string> out;
  for (const auto& p : packages)
    if (p.manager == manager) out.insert(key(p.name, p.architecture, p.version));
  return out;
}

struct Collected {
  Outcome outcome;
  std::vector<SoftwarePackage> packages;
};

Collected collect(const fs::path& root) {
  SoftwareCollector collector;
  ScanContext context;
  context.root = root;
  Collected out;
  out.outcome = collector.collect(context);
  if (collector.items()) out.packages = *collector.items();
  return out;
}

std::string errors_of(const Outcome& outcome) {
  std::string out;
  for (const auto& e : outcome.errors) out += e + "\n";
  return out;
}

// What `rpm -qa` lists in the database of `root`, as "name:arch=[epoch:]version-release";
// `gpg_pubkeys` counts the imported keys, which the collector leaves out.
struct RpmTruth {
  std::set<std::string> packages;
  std::size_t gpg_pubkeys = 0;
};

RpmTruth rpm_query_all(const fs::path& root, const std::string& dbpath,
                       const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv{"rpm", "--root", root.string(), "--dbpath", dbpath};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.insert(argv.end(),
              {"-qa", "--qf", "%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\n"});
  auto r = run(argv);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  RpmTruth truth;
  for (const auto& line : lines_of(r.out)) {
    auto f = split_tabs(line);
    if (f.size() != 5) {
      ADD_FAILURE() << "rpm printed: " << line;
      continue;
    }
    if (f[0] == "gpg-pubkey") {
      ++truth.gpg_pubkeys;
      continue;
    }
    std::string evr = (f[1] == "(none)" ? "" : f[1] + ":") + f[2] + "-" + f[3];
    truth.packages.insert(key(f[0], f[4] == "(none)" ? "" : f[4], evr));
  }
  return truth;
}

// Tiny packages built once for the suite: two noarch ones (one with an epoch and a file, one with
// epoch 0 and a tilde in its version), one of the machine's architecture built for i686 too, and
// many_count plain ones.
class RealRpmDatabase : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    workspace_ = std::make_unique<test::TempDir>();
    const fs::path top = workspace_->path() / "rpmbuild";
    fs::create_directories(top / "tmp");
    workspace_->write(
        "rpmbuild/SPECS/alpha.spec",
        "Name: hp-alpha\nVersion: 1.2\nRelease: 3\nEpoch: 2\nSummary: alpha\n"
        "License: MIT\nBuildArch: noarch\n%description\nalpha\n"
        "%install\nmkdir -p %{buildroot}/opt/hp\necho alpha > %{buildroot}/opt/hp/alpha\n"
        "%files\n/opt/hp/alpha\n");
    workspace_->write("rpmbuild/SPECS/beta.spec",
                      "Name: hp-beta\nVersion: 0.9\nRelease: 1\nSummary: beta\nLicense: MIT\n"
                      "%description\nbeta\n%files\n");
    workspace_->write("rpmbuild/SPECS/gamma.spec",
                      "Name: hp-gamma\nVersion: 3.0~rc1\nRelease: 1.hp\nEpoch: 0\nSummary: gamma\n"
                      "License: MIT\nBuildArch: noarch\n%description\ngamma\n%files\n");
    const std::vector<std::string> build{
        "rpmbuild", "--define", "_topdir " + top.string(), "--define",
        "_tmppath " + (top / "tmp").string(), "--define", "debug_package %{nil}",
        // no build dependencies to check: the host's rpm
        // database (Debian's ~/.rpmdb) is never opened
        "--define", "_dbpath " + (top / "rpmdb").string(), "--nodeps", "--quiet"};
    // And enough plain ones that a Berkeley DB of them has many buckets and chains.
    std::vector<std::string> specs{(top / "SPECS/alpha.spec").string(),
                                   (top / "SPECS/beta.spec").string(),
                                   (top / "SPECS/gamma.spec").string()};
    for (int i = 0; i < many_count; ++i) {
      const std::string name = "hp-many-" + std::to_string(i);
      workspace_->write("rpmbuild/SPECS/" + name + ".spec",
                        "Name: " + name + "\nVersion: " + std::to_string(i) +
                            "\nRelease: 1\nSummary: many\nLicense: MIT\nBuildArch: noarch\n"
                            "%description\nmany\n%files\n");
      specs.push_back((top / "SPECS" / (name + ".spec")).string());
    }
    std::vector<std::string> all{"-bb"};
    all.insert(all.end(), specs.begin(), specs.end());
    for (const std::vector<std::string>& extra :
         {all, std::vector<std::string>{"--target", "i686", "-bb", specs[1]}}) {
      auto argv = build;
      argv.insert(argv.end(), extra.begin(), extra.end());
      auto r = run(argv);
      if (r.exit_code != 0) {
        setup_problem_ = "rpmbuild (Debian package rpm) failed: " + describe(r);
        return;
      }
    }
    for (const auto& entry : fs::recursive_directory_iterator(top / "RPMS"))
      if (entry.path().extension() == ".rpm") rpm_files_.push_back(entry.path().string());
    if (rpm_files_.size() != 4 + many_count)
      setup_problem_ = "rpmbuild made " + std::to_string(rpm_files_.size()) + " packages";
  }
  static void TearDownTestSuite() {
    rpm_files_.clear();
    workspace_.reset();
  }

  void SetUp() override { ASSERT_TRUE(setup_problem_.empty()) << setup_problem_; }

  // Installs the packages into `root` with the database in `dbpath`, as rpm does on a real system.
  static void install(const fs::path& root, const std::string& dbpath) {
    std::vector<std::string> argv{"rpm",  "--root",   root.string(), "--dbpath",
                                  dbpath, "--nodeps", "--noscripts", "-i"};
    argv.insert(argv.end(), rpm_files_.begin(), rpm_files_.end());
    auto r = run(argv);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
  }

  static constexpr int many_count = 40;
  static inline std::unique_ptr<test::TempDir> workspace_;
  static inline std::vector<std::string> rpm_files_;
  static inline std::string setup_problem_;
};

// Every file of a folder with its size and modification time: to show that reading changed none.
std::map<std::string, std::pair<std::uintmax_t, fs::file_time_type>> files_in(const fs::path& dir) {
  std::map<std::string, std::pair<std::uintmax_t, fs::file_time_type>> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) out[e.path().filename()] = {e.file_size(), e.last_write_time()};
  return out;
}

TEST_F(RealRpmDatabase, SqliteDatabaseWrittenByRpm) {
  test::TempDir root;
  auto backend = run({"rpm", "--root", root.path().string(), "--eval", "%{_db_backend}"});
  EXPECT_EQ(backend.out, "sqlite\n");  // what Debian's rpm writes
  ASSERT_NO_FATAL_FAILURE(install(root.path(), "/var/lib/rpm"));
  ASSERT_TRUE(fs::exists(root.path() / "var/lib/rpm/rpmdb.sqlite"));

  // An imported signing key: rpm lists it as a package named gpg-pubkey; it is no software.
  test::TempDir gnupg;
  auto exported =
      run({"gpg", "--no-default-keyring", "--keyring",
           "/usr/share/keyrings/debian-archive-bookworm-stable.gpg", "--armor", "--export"},
          {{"GNUPGHOME", gnupg.path().string()}});
  bool key_imported = false;
  if (exported.exit_code == 0 &&
      exported.out.find("BEGIN PGP PUBLIC KEY BLOCK") != std::string::npos) {
    auto key_file = gnupg.write("key.asc", exported.out);
    auto r = run({"rpm", "--root", root.path().string(), "--dbpath", "/var/lib/rpm", "--import",
                  key_file.string()});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    key_imported = r.exit_code == 0;
  }

  auto truth = rpm_query_all(root.path(), "/var/lib/rpm");
  if (key_imported) {
    EXPECT_EQ(truth.gpg_pubkeys, 1u);
  }
  const std::string arch = run({"rpm", "--eval", "%{_arch}"}).out;
  std::set<std::string> expected{"hp-alpha:noarch=2:1.2-3",
                                 "hp-beta:" + arch.substr(0, arch.size() - 1) + "=0.9-1",
                                 "hp-beta:i686=0.9-1", "hp-gamma:noarch=0:3.0~rc1-1.hp"};
  for (int i = 0; i < many_count; ++i)
    expected.insert(key("hp-many-" + std::to_string(i), "noarch", std::to_string(i) + "-1"));
  EXPECT_EQ(truth.packages, expected);

  auto before = files_in(root.path() / "var/lib/rpm");
  auto got = collect(root.path());
  if (!rpm_sqlite_reader_built()) {
    EXPECT_NE(errors_of(got.outcome).find("RPM SQLite reader not built"), std::string::npos);
    return;
  }
  EXPECT_TRUE(got.outcome.complete);
  EXPECT_TRUE(got.outcome.errors.empty()) << errors_of(got.outcome);
  EXPECT_EQ(keys_of(got.packages, "rpm"), truth.packages);
  EXPECT_EQ(got.packages.size(), truth.packages.size());
  EXPECT_EQ(files_in(root.path() / "var/lib/rpm"), before) << "reading changed the database folder";
}

TEST_F(RealRpmDatabase, FedoraLayoutWithTheSymlinkedFolderCountsOnce) {
  test::TempDir root;
  ASSERT_NO_FATAL_FAILURE(install(root.path(), "/usr/lib/sysimage/rpm"));
  fs::create_directories(root.path() / "var/lib");
  fs::create_symlink("../../usr/lib/sysimage/rpm", root.path() / "var/lib/rpm");
  auto truth = rpm_query_all(root.path(), "/var/lib/rpm");
  ASSERT_EQ(truth.packages.size(), 4u + many_count);
  if (!rpm_sqlite_reader_built()) GTEST_SKIP() << "built without the SQLite RPM reader";
  auto got = collect(root.path());
  EXPECT_TRUE(got.outcome.errors.empty()) << errors_of(got.outcome);
  EXPECT_EQ(keys_of(got.packages, "rpm"), truth.packages);
}

// The headers of a database rpm wrote, as db_load -T input: a hex-escaped key line and value line
// per record; the key is rpm's header number in the machine's byte order, record 0 its counter.
std::string bdb_load_input(const fs::path& sqlite_db, bool big_endian_keys) {
  auto rows = run({"sqlite3", "-readonly", "-batch", sqlite_db.string(),
                   "SELECT hnum, hex(blob) FROM Packages ORDER BY hnum"});
  EXPECT_EQ(rows.exit_code, 0) << "the sqlite3 program (Debian package sqlite3): "
                               << describe(rows);
  auto key_text = [&](std::uint32_t n) {
    std::string out;
    char buf[4];
    for (int i = 0; i < 4; ++i) {
      unsigned byte = big_endian_keys ? (n >> (24 - 8 * i)) & 0xff : (n >> (8 * i)) & 0xff;
      std::snprintf(buf, sizeof buf, "\\%02x", byte);
      out += buf;
    }
    return out;
  };
  std::string input;
  std::uint32_t highest = 0;
  std::string records;
  for (const auto& line : lines_of(rows.out)) {
    auto bar = line.find('|');
    std::uint32_t hnum = static_cast<std::uint32_t>(std::stoul(line.substr(0, bar)));
    highest = std::max(highest, hnum);
    records += key_text(hnum) + "\n";
    std::string hex = line.substr(bar + 1);
    for (char& c : hex)
      c = static_cast<char>(
          std::tolower(static_cast<unsigned char>(c)));  // db_load reads lowercase only
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) records += "\\" + hex.substr(i, 2);
    records += "\n";
  }
  return key_text(0) + "\n" + key_text(highest + 1) + "\n" + records;
}

// Loads the headers of the SQLite database rpm wrote into a Berkeley DB file at `out` with
// db5.3_load and `options` (-t hash or btree, -c settings).
void load_berkeley_db(const fs::path& sqlite_db, const fs::path& out,
                      const std::vector<std::string>& options, bool big_endian_keys) {
  test::TempDir scratch;
  auto input = scratch.write("load.txt", bdb_load_input(sqlite_db, big_endian_keys));
  std::vector<std::string> argv{"db5.3_load", "-T", "-f", input.string()};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back(out.string());
  fs::create_directories(out.parent_path());
  auto load = run(argv);
  ASSERT_EQ(load.exit_code, 0) << "db5.3_load (Debian package db5.3-util): " << describe(load);
}

TEST_F(RealRpmDatabase, BerkeleyDbMadeByDbLoadAndReadByRpm) {
  test::TempDir source;
  ASSERT_NO_FATAL_FAILURE(install(source.path(), "/var/lib/rpm"));
  auto sqlite_truth = rpm_query_all(source.path(), "/var/lib/rpm");
  ASSERT_EQ(sqlite_truth.packages.size(), 4u + many_count);
  const bool big_endian_host = std::endian::native == std::endian::big;

  struct Variant {
    std::string page_size;
    bool big_endian;
    std::string fill_factor;  // empty: Berkeley DB's default
  };
  // Small pages put every header on an overflow chain and chain hash pages; a fill factor of 1
  // splits buckets as records arrive, so buckets lie at the offsets of the meta page's spares;
  // 64 KiB pages hold the headers inline; the other byte order is how a database from s390x or
  // POWER looks.
  for (const Variant& v : {Variant{"512", false, ""}, Variant{"512", false, "1"},
                           Variant{"4096", true, "2"}, Variant{"65536", false, ""}}) {
    SCOPED_TRACE("page size " + v.page_size + (v.big_endian ? ", big-endian" : ", little-endian") +
                 ", fill factor " + v.fill_factor);
    test::TempDir root;
    std::vector<std::string> options{"-t", "hash", "-c", "db_pagesize=" + v.page_size};
    if (!v.fill_factor.empty()) {
      options.push_back("-c");
      options.push_back("h_ffactor=" + v.fill_factor);
    }
    if (v.big_endian != big_endian_host) {
      options.push_back("-c");
      options.push_back(v.big_endian ? "db_lorder=4321" : "db_lorder=1234");
    }
    ASSERT_NO_FATAL_FAILURE(load_berkeley_db(source.path() / "var/lib/rpm/rpmdb.sqlite",
                                             root.path() / "var/lib/rpm/Packages", options,
                                             v.big_endian));

    // rpm's own read-only Berkeley DB backend is the truth for this file.
    auto truth = rpm_query_all(root.path(), "/var/lib/rpm", {"--define", "_db_backend bdb_ro"});
    EXPECT_EQ(truth.packages, sqlite_truth.packages);
    auto got = collect(root.path());
    EXPECT_TRUE(got.outcome.complete);
    EXPECT_TRUE(got.outcome.errors.empty()) << errors_of(got.outcome);
    EXPECT_EQ(keys_of(got.packages, "rpm"), truth.packages);
  }
}

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string dpkg_installed(const std::string& name) {
  return "Package: " + name + "\nStatus: install ok installed\nArchitecture: all\nVersion: 1\n\n";
}

// A database cut mid-page (as rpm leaves one it is writing, or a full disk), overwritten at its
// start, or replaced by a format that is not read hides packages: the scan after a good one keeps
// the packages the good one found and reports the error, while the dpkg database beside it is
// read fresh; once the database is whole again it is read again.
TEST_F(RealRpmDatabase, ABrokenDatabaseKeepsTheLastGoodPackagesAndReportsTheError) {
  if (!rpm_sqlite_reader_built()) GTEST_SKIP() << "built without the SQLite RPM reader";
  test::TempDir source;
  ASSERT_NO_FATAL_FAILURE(install(source.path(), "/var/lib/rpm"));
  const fs::path rpm_sqlite = source.path() / "var/lib/rpm/rpmdb.sqlite";
  const auto truth = rpm_query_all(source.path(), "/var/lib/rpm").packages;
  ASSERT_EQ(truth.size(), 4u + many_count);
  const bool big_endian_host = std::endian::native == std::endian::big;
  test::TempDir scratch;
  const fs::path btree = scratch.path() / "btree";
  ASSERT_NO_FATAL_FAILURE(load_berkeley_db(rpm_sqlite, btree, {"-t", "btree"}, big_endian_host));

  struct Damage {
    std::string what;
    std::function<void(const fs::path&)> apply;
  };
  const std::vector<Damage> damages{
      {"cut mid-page",
       [](const fs::path& db) { fs::resize_file(db, fs::file_size(db) / 2 + 100); }},
      {"garbage over its header",
       [](const fs::path& db) {
         std::fstream io(db, std::ios::in | std::ios::out | std::ios::binary);
         const std::string junk(1024, '\x5a');
         io.write(junk.data(), static_cast<std::streamsize>(junk.size()));
       }},
      {"a Berkeley DB B-tree in its place",
       [&](const fs::path& db) { fs::copy_file(btree, db, fs::copy_options::overwrite_existing); }},
  };

  for (const std::string backend : {"sqlite", "bdb"}) {
    SCOPED_TRACE(backend);
    test::TempDir root;
    const std::string relative =
        backend == "sqlite" ? "var/lib/rpm/rpmdb.sqlite" : "var/lib/rpm/Packages";
    const fs::path db = root.path() / relative;
    if (backend == "sqlite") {
      fs::create_directories(db.parent_path());
      fs::copy_file(rpm_sqlite, db);
    } else {
      ASSERT_NO_FATAL_FAILURE(load_berkeley_db(rpm_sqlite, db,
                                               {"-t", "hash", "-c", "db_pagesize=4096"},
                                               big_endian_host));
    }
    const std::string good = file_bytes(db);
    std::string dpkg_status = dpkg_installed("dpkg-first");
    root.write("var/lib/dpkg/status", dpkg_status);

    SoftwareCollector collector;
    ScanContext context;
    context.root = root.path();
    auto published = [&] {
      return *collector.items();
    };
    auto first = collector.collect(context);
    ASSERT_TRUE(first.complete) << errors_of(first);
    ASSERT_EQ(keys_of(published(), "rpm"), truth);

    std::set<std::string> dpkg_truth{"dpkg-first:all=1"};
    for (const auto& damage : damages) {
      SCOPED_TRACE(damage.what);
      root.write(relative, good);
      damage.apply(db);
      const std::string added = "dpkg-" + std::to_string(dpkg_truth.size());
      dpkg_status += dpkg_installed(added);
      root.write("var/lib/dpkg/status", dpkg_status);
      dpkg_truth.insert(added + ":all=1");

      auto outcome = collector.collect(context);
      EXPECT_FALSE(outcome.complete);
      EXPECT_NE(errors_of(outcome).find(relative + ": "), std::string::npos) << errors_of(outcome);
      EXPECT_EQ(keys_of(published(), "rpm"), truth);
      EXPECT_EQ(keys_of(published(), "dpkg"), dpkg_truth);
      EXPECT_EQ(collector.item_count(), truth.size() + dpkg_truth.size());
    }

    root.write(relative, good);
    auto repaired = collector.collect(context);
    EXPECT_TRUE(repaired.complete) << errors_of(repaired);
    EXPECT_TRUE(repaired.errors.empty()) << errors_of(repaired);
    EXPECT_EQ(keys_of(published(), "rpm"), truth);
  }
}

// ---------------------------------------------------------------- this machine

// dpkg-query's installed packages, as "name:arch=version".
std::set<std::string> dpkg_query_installed() {
  auto r = run({"dpkg-query", "-W", "-f",
                "${db:Status-Status}\\t${Package}\\t${Architecture}\\t${Version}\\n"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  std::set<std::string> out;
  for (const auto& line : lines_of(r.out)) {
    auto f = split_tabs(line);
    if (f.size() == 4 && f[0] == "installed") out.insert(key(f[1], f[2], f[3]));
  }
  return out;
}

TEST(SoftwareHostTruth, DpkgPackagesEqualDpkgQuery) {
  if (!fs::exists("/var/lib/dpkg/status")) LIVE_SKIP() << "not a dpkg system";
  // The machine may be installing something: a round counts when dpkg-query agrees with itself
  // before and after the collector's read.
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto before = dpkg_query_installed();
    auto got = collect("/");
    auto after = dpkg_query_installed();
    if (before != after) continue;
    ASSERT_FALSE(before.empty());
    EXPECT_TRUE(got.outcome.complete) << errors_of(got.outcome);
    EXPECT_EQ(keys_of(got.packages, "dpkg"), before);
    // No other package database here (Debian's rpm keeps its own in ~/.rpmdb): app_num is
    // exactly dpkg-query's count.
    if (!fs::exists("/var/lib/rpm/rpmdb.sqlite") && !fs::exists("/var/lib/rpm/Packages") &&
        !fs::exists("/usr/lib/sysimage/rpm") && !fs::exists("/lib/apk/db/installed")) {
      EXPECT_TRUE(got.outcome.errors.empty()) << errors_of(got.outcome);
      EXPECT_EQ(got.packages.size(), before.size());
    }
    return;
  }
  LIVE_SKIP() << "the dpkg database never held still for a comparison";
}

TEST(SoftwareHostTruth, AppNumOfTheAgentEqualsTheInstalledCount) {
  if (!fs::exists("/var/lib/dpkg/status")) LIVE_SKIP() << "not a dpkg system";
  const char* bin = std::getenv("HOSTPRINT_BIN");
  ASSERT_NE(bin, nullptr) << "HOSTPRINT_BIN names the hostprint executable";
  test::TempDir state;
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto before = dpkg_query_installed();
    auto r = run({bin, "query", "--state-dir", state.path().string(), "/v5/p/asset/statistics"});
    auto after = dpkg_query_installed();
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    if (before != after) continue;
    auto app_num = boost::json::parse(r.out).at("app_num").as_int64();
    auto all = collect("/").packages.size();
    EXPECT_EQ(app_num, static_cast<std::int64_t>(all));
    if (!fs::exists("/var/lib/rpm/rpmdb.sqlite") && !fs::exists("/var/lib/rpm/Packages") &&
        !fs::exists("/usr/lib/sysimage/rpm") && !fs::exists("/lib/apk/db/installed")) {
      EXPECT_EQ(app_num, static_cast<std::int64_t>(before.size()));
    }
    return;
  }
  LIVE_SKIP() << "the dpkg database never held still for a comparison";
}

}  // namespace
}  // namespace hostprint::collectors
