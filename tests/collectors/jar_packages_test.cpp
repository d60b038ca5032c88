// Class path expansion, nested naming, and the cache of JarPackagesCollector, on files the test
// writes itself: stored ZIP archives, and a fake /proc for one JVM.
#include "collectors/jar_packages.hpp"
#include "proto/digest.hpp"

#include <gtest/gtest.h>

#include "collectors/formats/java_args.hpp"
#include "collectors/formats/proc_text.hpp"
#include "collectors/formats/python_dist.hpp"
#include "collectors/formats/version_text.hpp"
#include "collectors/io/digest.hpp"
#include "collectors/io/root_glob.hpp"
#include <zlib.h>

#include <filesystem>
#include <map>

#include "tests/scan_chain.hpp"
#include "tests/temp_dir.hpp"

namespace hostprint::collectors {
namespace {

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

// A /proc/<pid>/stat whose start time (field 22) is `ticks`: the process the table names.
void write_stat(const test::TempDir& proc, int pid, std::uint64_t ticks) {
  proc.write(std::to_string(pid) + "/stat", std::to_string(pid) +
                                                " (java) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 " +
                                                std::to_string(ticks) + " 0 0\n");
}

TEST(JarPackages, ClassPathExpandsFoldersAndResolvesRelativeEntries) {
  std::map<std::string, Strings> dirs = {
      {"/app/lib", {"b-2.0.jar", "a-1.0.jar", "notes.txt", "C.JAR"}},
      {"/opt/ext", {"x.jar"}},
  };
  Strings asked;
  DirLister list = [&](const std::string& dir) {
    asked.push_back(dir);
    auto it = dirs.find(dir);
    return it == dirs.end() ? Strings{} : it->second;
  };
  auto jars = class_path_jars({"app.jar:lib/*", "::/opt/ext/*:classes:/abs/./y.jar", "app.jar",
                               "lib/a-1.0.jar", "", "../other/z.jar:/missing/*"},
                              "/app", list);
  EXPECT_EQ(jars, (Strings{"/app/app.jar", "/app/lib/C.JAR", "/app/lib/a-1.0.jar",
                           "/app/lib/b-2.0.jar", "/opt/ext/x.jar", "/abs/y.jar", "/other/z.jar"}));
  EXPECT_EQ(asked, (Strings{"/app/lib", "/opt/ext", "/missing"}));
}

TEST(JarPackages, ClassPathWithoutWorkingDirectoryUsesTheRoot) {
  auto jars = class_path_jars({"a.jar", "*"}, "", [](const std::string& dir) {
    return dir == "/" ? Strings{"r.jar"} : Strings{};
  });
  EXPECT_EQ(jars, (Strings{"/a.jar", "/r.jar"}));
  EXPECT_TRUE(class_path_jars({}, "/x", nullptr).empty());
  EXPECT_TRUE(class_path_jars({":", "classes", "dir/"}, "/x", nullptr).empty());
}

TEST(JarPackages, NestedNamesAndWhichEntriesCount) {
  EXPECT_EQ(nested_jar_name("/srv/fat.jar", "BOOT-INF/lib/x-3.0.jar"),
            "/srv/fat.jar!/BOOT-INF/lib/x-3.0.jar");
  EXPECT_TRUE(is_nested_library("BOOT-INF/lib/x-3.0.jar"));
  EXPECT_TRUE(is_nested_library("WEB-INF/lib/Y.JAR"));
  EXPECT_FALSE(is_nested_library("BOOT-INF/lib/"));
  EXPECT_FALSE(is_nested_library("BOOT-INF/lib/sub/x.jar"));
  EXPECT_FALSE(is_nested_library("BOOT-INF/lib/../../x.jar"));
  EXPECT_FALSE(is_nested_library("BOOT-INF/classes/x.jar"));
  EXPECT_FALSE(is_nested_library("lib/x.jar"));
  EXPECT_FALSE(is_nested_library(std::string_view("WEB-INF/lib/a\0b.jar", 19)));
  EXPECT_TRUE(is_jvm_executable("/usr/lib/jvm/java-17-openjdk-amd64/bin/java"));
  EXPECT_TRUE(is_jvm_executable("/opt/bin/javaw (deleted)"));
  EXPECT_FALSE(is_jvm_executable("/usr/bin/python3"));
  EXPECT_FALSE(is_jvm_executable("/opt/java/bin/jshell"));
}

TEST(JarPackages, CacheKeepsWhatWasSeenAndDropsTheRest) {
  JarCache cache(2);
  JarScanResult r;
  r.records.push_back(JarRecord{"", "a", "1.0", "g"});
  cache.store("a", 10, 100, r);
  cache.store("b", 20, 200, r);
  cache.store("c", 30, 300, r);  // past the bound: not kept
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.find("c", 30, 300), nullptr);
  cache.sweep();  // all stored since the last sweep: kept
  EXPECT_EQ(cache.size(), 2u);
  ASSERT_NE(cache.find("a", 10, 100), nullptr);
  EXPECT_EQ(cache.find("a", 10, 100)->records.at(0).name, "a");
  EXPECT_EQ(cache.find("b", 21, 200), nullptr);  // changed: dropped
  cache.sweep();
  EXPECT_EQ(cache.size(), 1u);
  cache.sweep();  // "a" not seen in this round
  EXPECT_EQ(cache.size(), 0u);
}

// A ZIP of stored members.
std::string stored_zip(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string out, dir;
  auto u16 = [](std::string& s, unsigned v) {
    s += static_cast<char>(v & 0xff);
    s += static_cast<char>((v >> 8) & 0xff);
  };
  auto u32 = [&](std::string& s, std::uint32_t v) {
    u16(s, v & 0xffff);
    u16(s, v >> 16);
  };
  for (const auto& [name, data] : members) {
    auto crc = static_cast<std::uint32_t>(
        ::crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
    auto offset = static_cast<std::uint32_t>(out.size());
    auto size = static_cast<std::uint32_t>(data.size());
    auto name_len = static_cast<unsigned>(name.size());
    u32(out, 0x04034b50);
    u16(out, 20), u16(out, 0), u16(out, 0), u16(out, 0), u16(out, 0);
    u32(out, crc), u32(out, size), u32(out, size);
    u16(out, name_len), u16(out, 0);
    out += name;
    out += data;
    u32(dir, 0x02014b50);
    u16(dir, 20), u16(dir, 20), u16(dir, 0), u16(dir, 0), u16(dir, 0), u16(dir, 0);
    u32(dir, crc), u32(dir, size), u32(dir, size);
    u16(dir, name_len), u16(dir, 0), u16(dir, 0), u16(dir, 0), u16(dir, 0);
    u32(dir, 0), u32(dir, offset);
    dir += name;
  }
  auto dir_offset = static_cast<std::uint32_t>(out.size());
  out += dir;
  u32(out, 0x06054b50);
  u16(out, 0), u16(out, 0);
  u16(out, static_cast<unsigned>(members.size())), u16(out, static_cast<unsigned>(members.size()));
  u32(out, static_cast<std::uint32_t>(dir.size())), u32(out, dir_offset);
  u16(out, 0);
  return out;
}

std::vector<std::string> paths_of(const std::vector<JarPackage>& jars) {
  std::vector<std::string> out;
  for (const auto& j : jars) out.push_back(j.path + " " + j.name + " " + j.version);
  return out;
}

TEST(JarPackages, CollectorReadsOnceAndRereadsWhatChanged) {
  test::TempDir root, proc;
  root.write("srv/app/lib/a-1.0.jar",
             stored_zip({{"META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\n"}}));
  std::string inner = stored_zip(
      {{"META-INF/maven/org.x/x/pom.properties", "groupId=org.x\nartifactId=x\nversion=3.0\n"}});
  root.write("srv/app/fat.jar", stored_zip({{"BOOT-INF/lib/x-3.0.jar", inner},
                                            {"BOOT-INF/lib/broken-1.jar", "not a zip"},
                                            {"BOOT-INF/classes/Main.class", "x"}}));
  // Two JVMs, the same JARs: each counted once.
  for (int pid : {10, 11}) {
    static const char argv[] = "/usr/bin/java\0-cp\0lib/*:fat.jar:lib/a-1.0.jar\0Main";
    std::string cmd(argv, sizeof argv);
    proc.write(std::to_string(pid) + "/cmdline", cmd);
    // The working folder as the JVM sees it, inside its root.
    fs::create_directory_symlink("/srv/app", proc.path() / std::to_string(pid) / "cwd");
    write_stat(proc, pid, pid - 9);
  }
  auto processes = std::make_shared<std::vector<ProcessInfo>>(std::vector<ProcessInfo>{
      {10, 1, "/usr/bin/java", ""}, {11, 2, "/usr/bin/java", ""}, {12, 3, "/usr/bin/sleep", ""}});
  proto::AssetSet found;
  found.add<proto::ProcessInfo>(processes);
  ScanContext context;
  context.root = root.path();
  context.proc = proc.path();
  context.found = &found;
  context.readable.set();  // every kind, as the test arranges them

  JarPackagesCollector collector;
  Outcome outcome = collector.collect(context);
  EXPECT_TRUE(outcome.complete);
  ASSERT_TRUE(collector.items());
  const Strings expected = {
      "/srv/app/fat.jar fat ", "/srv/app/fat.jar!/BOOT-INF/lib/broken-1.jar broken 1",
      "/srv/app/fat.jar!/BOOT-INF/lib/x-3.0.jar x 3.0", "/srv/app/lib/a-1.0.jar a 1.0"};
  EXPECT_EQ(paths_of(*collector.items()), expected);
  EXPECT_EQ(collector.items()->at(2).group_id, "org.x");
  EXPECT_EQ(collector.items()->at(0).pid, 10);
  EXPECT_EQ(collector.archives_opened(), 2u);
  ASSERT_EQ(outcome.errors.size(), 1u);  // the broken nested archive
  EXPECT_NE(outcome.errors[0].find("broken-1.jar"), std::string::npos);

  // Unchanged: nothing reopened, the same result.
  outcome = collector.collect(context);
  EXPECT_TRUE(outcome.complete);
  EXPECT_EQ(paths_of(*collector.items()), expected);
  EXPECT_EQ(collector.archives_opened(), 2u);

  // One JAR changed: only it is reopened.
  root.write(
      "srv/app/lib/a-1.0.jar",
      stored_zip({{"META-INF/maven/org.a/a/pom.properties", "artifactId=a\nversion=1.1\n"}}));
  collector.collect(context);
  EXPECT_EQ(collector.archives_opened(), 3u);
  EXPECT_EQ(collector.items()->back().version, "1.1");

  // No JVM left: nothing listed, and the cache forgets (the next run opens again).
  found = {};
  found.add<proto::ProcessInfo>(std::make_shared<std::vector<ProcessInfo>>());
  collector.collect(context);
  EXPECT_TRUE(collector.items()->empty());
  found = {};
  found.add<proto::ProcessInfo>(processes);
  collector.collect(context);
  EXPECT_EQ(collector.archives_opened(), 5u);
}

// Size, hash, outer archive and JVM of each JAR. The hash is made when the archive is read and
// kept while the file is the same (device, inode, size, mtime): a file replaced by another of the
// same size and mtime (a new inode) is read and hashed again.
TEST(JarPackages, SizeHashOuterArchiveAndJvm) {
  test::TempDir root, proc;
  const std::string inner = stored_zip(
      {{"META-INF/maven/org.x/x/pom.properties", "groupId=org.x\nartifactId=x\nversion=3.0\n"}});
  const std::string fat = stored_zip({{"BOOT-INF/lib/x-3.0.jar", inner}});
  root.write("srv/app/fat.jar", fat);
  static const char argv[] = "/usr/bin/java\0-jar\0/srv/app/fat.jar";
  proc.write("10/cmdline", std::string(argv, sizeof argv));
  fs::create_directory_symlink("/srv/app", proc.path() / "10" / "cwd");
  write_stat(proc, 10, 1);
  auto processes = std::make_shared<std::vector<ProcessInfo>>(
      std::vector<ProcessInfo>{{10, 1, "/opt/jdk/bin/java", ""}});
  proto::AssetSet found;
  found.add<proto::ProcessInfo>(processes);
  ScanContext context;
  context.root = root.path();
  context.proc = proc.path();
  context.found = &found;
  context.readable.set();

  JarPackagesCollector collector;
  EXPECT_TRUE(collector.collect(context).complete);
  ASSERT_EQ(collector.items()->size(), 2u);
  const auto& outer = collector.items()->at(0);
  const auto& nested = collector.items()->at(1);
  EXPECT_EQ(outer.path, "/srv/app/fat.jar");
  EXPECT_EQ(outer.size, fat.size());
  EXPECT_EQ(outer.hash, proto::sha256_hex(fat));
  EXPECT_EQ(outer.exe, "/opt/jdk/bin/java");
  EXPECT_EQ(nested.path, "/srv/app/fat.jar!/BOOT-INF/lib/x-3.0.jar");
  EXPECT_EQ(nested.size, inner.size());  // the member's
  EXPECT_EQ(nested.hash, "");
  EXPECT_EQ(nested.exe, "/opt/jdk/bin/java");
  EXPECT_EQ(collector.archives_opened(), 1u);

  // Unchanged: neither reopened nor hashed again, the same hash.
  EXPECT_TRUE(collector.collect(context).complete);
  EXPECT_EQ(collector.archives_opened(), 1u);
  EXPECT_EQ(collector.items()->at(0).hash, proto::sha256_hex(fat));

  // Another file of the same size and mtime put in its place.
  const std::string other = stored_zip({{"BOOT-INF/lib/y-3.0.jar", inner}});
  ASSERT_EQ(other.size(), fat.size());
  const auto mtime = fs::last_write_time(root.path() / "srv/app/fat.jar");
  root.write("srv/app/fat.new", other);
  fs::last_write_time(root.path() / "srv/app/fat.new", mtime);
  fs::rename(root.path() / "srv/app/fat.new", root.path() / "srv/app/fat.jar");
  EXPECT_TRUE(collector.collect(context).complete);
  EXPECT_EQ(collector.archives_opened(), 2u);
  EXPECT_EQ(collector.items()->at(0).hash, proto::sha256_hex(other));
  EXPECT_EQ(collector.items()->at(1).path, "/srv/app/fat.jar!/BOOT-INF/lib/y-3.0.jar");
}

TEST(JarPackages, TomcatLibApplicationsAndClassPathFromTheEnvironment) {
  test::TempDir root, proc;
  std::string jar = stored_zip({{"a.txt", "a"}});
  root.write("tc/lib/catalina.jar", jar);
  root.write("tc/lib/readme.txt", "x");
  root.write("tc/webapps/shop/WEB-INF/lib/spring-core-5.3.20.jar", jar);
  root.write("tc/webapps/blog.war", stored_zip({{"WEB-INF/lib/jackson-core-2.13.0.jar", jar},
                                                {"WEB-INF/classes/x.class", "x"}}));
  root.write("env/e-1.jar", jar);
  static const char argv[] =
      "/opt/jdk/bin/java\0-Dcatalina.base=/tc\0org.apache.catalina.startup.Bootstrap\0start";
  proc.write("20/cmdline", std::string(argv, sizeof argv));
  static const char env[] = "HOME=/root\0CLASSPATH=/env/e-1.jar:/env/missing.jar";
  proc.write("20/environ", std::string(env, sizeof env));
  write_stat(proc, 20, 1);
  proto::AssetSet found;
  found.add<proto::ProcessInfo>(std::make_shared<std::vector<ProcessInfo>>(
      std::vector<ProcessInfo>{{20, 1, "/opt/jdk/bin/java", ""}}));
  ScanContext context;
  context.root = root.path();
  context.proc = proc.path();
  context.found = &found;
  context.readable.set();  // every kind, as the test arranges them
  JarPackagesCollector collector;
  Outcome outcome = collector.collect(context);
  EXPECT_TRUE(outcome.complete);
  EXPECT_TRUE(outcome.errors.empty()) << outcome.errors.at(0);
  // The WAR itself is an application, not a library: only its nested JARs count.
  EXPECT_EQ(
      paths_of(*collector.items()),
      (Strings{"/env/e-1.jar e 1", "/tc/lib/catalina.jar catalina ",
               "/tc/webapps/blog.war!/WEB-INF/lib/jackson-core-2.13.0.jar jackson-core 2.13.0",
               "/tc/webapps/shop/WEB-INF/lib/spring-core-5.3.20.jar spring-core 5.3.20"}));
}

TEST(JarPackages, SymlinksResolveInsideTheRoot) {
  test::TempDir root, proc, outside;
  outside.write("secret.jar", stored_zip({{"a.txt", "a"}}));
  fs::create_directories(root.path() / "app");
  fs::create_symlink(outside.path() / "secret.jar", root.path() / "app/escape.jar");
  fs::create_symlink("../../../../../../../../..", root.path() / "app/up");
  static const char argv[] = "java\0-cp\0/app/escape.jar:/app/up/app/escape.jar\0Main";
  proc.write("30/cmdline", std::string(argv, sizeof argv));
  write_stat(proc, 30, 1);
  proto::AssetSet found;
  found.add<proto::ProcessInfo>(std::make_shared<std::vector<ProcessInfo>>(
      std::vector<ProcessInfo>{{30, 1, "/usr/bin/java", ""}}));
  ScanContext context;
  context.root = root.path();
  context.proc = proc.path();
  context.found = &found;
  context.readable.set();  // every kind, as the test arranges them
  JarPackagesCollector collector;
  EXPECT_TRUE(collector.collect(context).complete);
  EXPECT_EQ(collector.item_count(), 0u);  // the link's target does not exist inside the root
}

TEST(JarPackages, NestedCountIsBoundedAndErrorsAreBounded) {
  test::TempDir root, proc;
  std::vector<std::pair<std::string, std::string>> members;
  for (std::size_t i = 0; i <= jar_packages_max_nested; ++i)
    members.emplace_back("BOOT-INF/lib/n" + std::to_string(i) + "-1.jar", "not a zip");
  root.write("fat.jar", stored_zip(members));
  static const char argv[] = "java\0-jar\0/fat.jar";
  proc.write("40/cmdline", std::string(argv, sizeof argv));
  write_stat(proc, 40, 1);
  proto::AssetSet found;
  found.add<proto::ProcessInfo>(std::make_shared<std::vector<ProcessInfo>>(
      std::vector<ProcessInfo>{{40, 1, "/usr/bin/java", ""}}));
  ScanContext context;
  context.root = root.path();
  context.proc = proc.path();
  context.found = &found;
  context.readable.set();  // every kind, as the test arranges them
  JarPackagesCollector collector;
  Outcome outcome = collector.collect(context);
  EXPECT_TRUE(outcome.complete);
  EXPECT_EQ(collector.item_count(), 1 + jar_packages_max_nested);
  EXPECT_EQ(outcome.errors.size(), jar_packages_max_errors + 1);
  EXPECT_NE(outcome.errors.front().find("more than 5000 nested"), std::string::npos)
      << outcome.errors.front();
  EXPECT_NE(outcome.errors.back().find("more errors not listed"), std::string::npos);
}

// A container's JVM is read through its root as held from when its start time was checked: one
// whose pid was reused since the process table was read (another start time) is not read at all,
// though its /proc/<pid>/root now leads to a tree with a JAR.
TEST(JarPackages, ContainerJvmWithAReusedPidIsNotRead) {
  test::TempDir proc, image, other;
  image.write("app/a-1.0.jar", stored_zip({{"a.txt", "a"}}));
  other.write("app/b-1.0.jar", stored_zip({{"b.txt", "b"}}));
  static const char argv_a[] = "java\0-cp\0/app/a-1.0.jar\0Main";
  static const char argv_b[] = "java\0-cp\0/app/b-1.0.jar\0Main";
  proc.write("50/cmdline", std::string(argv_a, sizeof argv_a));
  proc.write("51/cmdline", std::string(argv_b, sizeof argv_b));
  write_stat(proc, 50, 7);
  write_stat(proc, 51, 8);  // the table recorded 5: another process has this pid now
  fs::create_directory_symlink(image.path(), proc.path() / "50/root");
  fs::create_directory_symlink(other.path(), proc.path() / "51/root");
  proto::AssetSet found;
  found.add<proto::ProcessInfo>(std::make_shared<std::vector<ProcessInfo>>(std::vector<ProcessInfo>{
      {50, 7, "/usr/bin/java", "c1"}, {51, 5, "/usr/bin/java", "c2"}}));
  ScanContext context;
  context.proc = proc.path();
  context.found = &found;
  context.readable.set();  // every kind, as the test arranges them
  JarPackagesCollector collector;
  EXPECT_TRUE(collector.collect(context).complete);
  ASSERT_EQ(collector.items()->size(), 1u);
  EXPECT_EQ(collector.items()->front().path, "/app/a-1.0.jar");
  EXPECT_EQ(collector.items()->front().container_id, "c1");
}

TEST(JarPackages, DeadlinePassedKeepsTheLastResult) {
  JarPackagesCollector collector;
  proto::AssetSet found;
  found.add<proto::ProcessInfo>(std::make_shared<std::vector<ProcessInfo>>(
      std::vector<ProcessInfo>{{10, 1, "/usr/bin/java", ""}}));
  ScanContext context;
  context.found = &found;
  context.readable.set();  // every kind, as the test arranges them
  context.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  EXPECT_FALSE(collector.collect(context).complete);
  EXPECT_EQ(collector.item_count(), 0u);
}

}  // namespace
}  // namespace hostprint::collectors
