#include "collectors/formats/zip_archive.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <memory>
#include <random>
#include <sstream>

#include "tests/temp_dir.hpp"

namespace hostprint::collectors {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

// --- Measuring cost -----------------------------------------------------------------------------

template <typename F>
double seconds(F&& f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

long status_kib(std::string_view key) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(key)) return std::stol(line.substr(key.size()));
  }
  return -1;
}

// How far the resident memory rose above where it was while `f` ran, in MiB, if the kernel lets
// the peak be reset (Linux clear_refs 5); otherwise nothing (and `f` still runs).
template <typename F>
std::optional<long> peak_growth_mib(F&& f) {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5" << std::flush;
  long before = status_kib("VmRSS:");
  bool reset = static_cast<bool>(clear) && before >= 0;
  f();
  long peak = status_kib("VmHWM:");
  if (!reset || peak < 0) return std::nullopt;
  return (peak - before) / 1024;
}

// Asserts that `f` raised resident memory by less than `max_mib` (how long it takes is no unit
// test's: a busy or sanitized run is slow).
template <typename F>
void expect_bounded(long max_mib, F&& f) {
  std::optional<long> growth = peak_growth_mib(f);
  if (growth) {
    EXPECT_LT(*growth, max_mib);
  }
}

// --- Archives -----------------------------------------------------------------------------------

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void run(const std::string& command) {
  int status = std::system((command + " >/dev/null 2>&1").c_str());
  ASSERT_EQ(status, 0) << command;
}

std::string quoted(const fs::path& path) {
  return "'" + path.string() + "'";
}

class File {
 public:
  explicit File(const fs::path& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~File() {
    if (fd_ >= 0) ::close(fd_);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

std::vector<std::string> names(const ZipArchive& archive) {
  std::vector<std::string> out;
  for (const auto& entry : archive.entries()) out.push_back(entry.name);
  return out;
}

std::string read_all(const ZipArchive& archive, std::string_view name,
                     std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
  const ZipEntry* entry = archive.find(name);
  if (!entry) return "<no " + std::string(name) + ">";
  std::string error;
  auto member = archive.read(*entry, max, error);
  if (!member) return "<error: " + error + ">";
  return member->bytes;
}

std::uint32_t crc(std::string_view data) {
  return static_cast<std::uint32_t>(
      crc32_z(0, reinterpret_cast<const Bytef*>(data.data()), data.size()));
}

std::string raw_deflate(std::string_view data) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, -MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// Raw deflate of `gib` GiB of zeros, about a megabyte per GiB: once the window is all zeros, each
// flushed mebibyte compresses to the same bytes, so one is repeated.
std::string zeros_bomb(int gib) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, -MAX_WBITS, 9, Z_RLE);
  std::string zeros(1 << 20, '\0');
  std::string out(1 << 21, '\0');
  auto pass = [&](int flush) {
    z.next_in = reinterpret_cast<Bytef*>(zeros.data());
    z.avail_in = flush == Z_FINISH ? 0 : static_cast<uInt>(zeros.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, flush);
    return out.substr(0, out.size() - z.avail_out);
  };
  std::string first = pass(Z_SYNC_FLUSH);
  std::string repeated = pass(Z_SYNC_FLUSH);
  std::string bomb = first;
  bomb.reserve(first.size() + repeated.size() * 1024 * gib);
  for (int i = 1; i < 1024 * gib; ++i) bomb += repeated;
  bomb += pass(Z_FINISH);
  deflateEnd(&z);
  return bomb;
}

// A handmade archive, for what no honest tool writes.
struct RawMember {
  std::string name;
  std::uint16_t method = 0;
  std::string payload;  // as stored: already compressed when method is 8
  std::uint32_t crc = 0;
  std::uint64_t uncompressed_size = 0;
  std::uint16_t flags = 0;
  std::optional<std::uint64_t> offset;  // where the central directory says it is
};

RawMember raw(std::string name, std::uint16_t method, std::string payload, std::uint32_t crc,
              std::uint64_t uncompressed_size) {
  RawMember m;
  m.name = std::move(name);
  m.method = method;
  m.payload = std::move(payload);
  m.crc = crc;
  m.uncompressed_size = uncompressed_size;
  return m;
}

RawMember stored(std::string name, const std::string& data) {
  return raw(std::move(name), 0, data, crc(data), data.size());
}

RawMember deflated(std::string name, std::string_view data) {
  return raw(std::move(name), 8, raw_deflate(data), crc(data), data.size());
}

// A gibibyte of zeros, deflated; its CRC is not worth computing, it is never read whole.
RawMember zeros_bomb_member() {
  return raw("zeros.bin", 8, zeros_bomb(1), 0, 1ull << 30);
}

struct Layout {
  bool zip64 = false;  // ZIP64 end records, and every size and offset in a ZIP64 extra field
  std::optional<std::uint64_t> claimed_entries;
  std::optional<std::uint64_t> claimed_offset;
  std::optional<std::uint64_t> claimed_size;
  std::string comment;
};

void put16(std::string& s, std::uint64_t v) {
  s += static_cast<char>(v & 0xFF);
  s += static_cast<char>(v >> 8 & 0xFF);
}
void put32(std::string& s, std::uint64_t v) {
  put16(s, v & 0xFFFF);
  put16(s, v >> 16 & 0xFFFF);
}
void put64(std::string& s, std::uint64_t v) {
  put32(s, v & 0xFFFFFFFF);
  put32(s, v >> 32);
}

std::string build_zip(const std::vector<RawMember>& members, const Layout& layout = {}) {
  std::string out;
  std::vector<std::uint64_t> offsets;
  const std::uint64_t saturated = 0xFFFFFFFF;
  for (const auto& m : members) {
    offsets.push_back(out.size());
    std::string extra;
    if (layout.zip64) {
      put16(extra, 1);
      put16(extra, 16);
      put64(extra, m.uncompressed_size);
      put64(extra, m.payload.size());
    }
    put32(out, 0x04034b50);
    put16(out, 45);
    put16(out, m.flags);
    put16(out, m.method);
    put32(out, 0);
    put32(out, m.crc);
    put32(out, layout.zip64 ? saturated : m.payload.size());
    put32(out, layout.zip64 ? saturated : m.uncompressed_size);
    put16(out, m.name.size());
    put16(out, extra.size());
    out += m.name + extra + m.payload;
  }
  std::uint64_t directory_offset = out.size();
  for (std::size_t i = 0; i < members.size(); ++i) {
    const auto& m = members[i];
    std::uint64_t offset = m.offset.value_or(offsets[i]);
    std::string extra;
    if (layout.zip64) {
      put16(extra, 1);
      put16(extra, 24);
      put64(extra, m.uncompressed_size);
      put64(extra, m.payload.size());
      put64(extra, offset);
    }
    put32(out, 0x02014b50);
    put16(out, 0x031E);
    put16(out, 45);
    put16(out, m.flags);
    put16(out, m.method);
    put32(out, 0);
    put32(out, m.crc);
    put32(out, layout.zip64 ? saturated : m.payload.size());
    put32(out, layout.zip64 ? saturated : m.uncompressed_size);
    put16(out, m.name.size());
    put16(out, extra.size());
    put16(out, 0);
    put16(out, 0);
    put16(out, 0);
    put32(out, 0);
    put32(out, layout.zip64 ? saturated : offset);
    out += m.name + extra;
  }
  std::uint64_t entries = layout.claimed_entries.value_or(members.size());
  std::uint64_t size = layout.claimed_size.value_or(out.size() - directory_offset);
  std::uint64_t offset = layout.claimed_offset.value_or(directory_offset);
  if (layout.zip64) {
    std::uint64_t record = out.size();
    put32(out, 0x06064b50);
    put64(out, 44);
    put16(out, 45);
    put16(out, 45);
    put32(out, 0);
    put32(out, 0);
    put64(out, entries);
    put64(out, entries);
    put64(out, size);
    put64(out, offset);
    put32(out, 0x07064b50);
    put32(out, 0);
    put64(out, record);
    put32(out, 1);
  }
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, layout.zip64 ? 0xFFFF : entries & 0xFFFF);
  put16(out, layout.zip64 ? 0xFFFF : entries & 0xFFFF);
  put32(out, layout.zip64 ? saturated : size);
  put32(out, layout.zip64 ? saturated : offset);
  put16(out, layout.comment.size());
  out += layout.comment;
  return out;
}

std::optional<ZipArchive> open_memory(std::string bytes, std::string& error,
                                      const ZipLimits& limits = {}) {
  return ZipArchive::open_bytes(std::move(bytes), limits, error);
}

// Real archives, made once with the JDK's tools.
class JarFiles : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir;
    const fs::path& d = dir_->path();
    // A class compiled by javac, and text large enough to be worth deflating.
    dir_->write("src/demo/Hello.java",
                "package demo;\npublic class Hello {\n"
                "  public static void main(String[] args) { System.out.println(\"hello\"); }\n}\n");
    std::string text;
    for (int i = 0; i < 20000; ++i) text += "line " + std::to_string(i) + " of some text\n";
    dir_->write("lib/demo/notes.txt", text);
    dir_->write("lib/META-INF/maven/org.example/demo-lib/pom.properties",
                "#Generated by Maven\n#Mon Jan 01 00:00:00 UTC 2024\n"
                "groupId=org.example\nartifactId=demo-lib\nversion=1.2.3\n");
    dir_->write("lib.mf", "Implementation-Title: Demo Library\nImplementation-Version: 9.9\n");
    dir_->write("core/org/springframework/core/SpringVersion.txt", "4.3.30\n");
    // What Debian's libspring-core-java ships as spring3-core-3.x.jar says of itself.
    dir_->write("core.mf",
                "Implementation-Title: spring-core\r\n"
                "Implementation-Version: 4.3.30.RELEASE\r\n");
    dir_->write("plain/org/apache/commons/lang3/StringUtils.txt", "x\n");
    dir_->write("app.mf",
                "Main-Class: org.springframework.boot.loader.JarLauncher\n"
                "Start-Class: demo.Hello\n"
                "Implementation-Title: demo-app\n");
    dir_->write("war/WEB-INF/web.xml", "<web-app/>\n");

    run("javac -d " + quoted(d / "app/BOOT-INF/classes") + " " + quoted(d / "src/demo/Hello.java"));
    run("cd " + quoted(d) + " && jar cfm demo-lib-1.2.3.jar lib.mf -C lib ." +
        " && jar cfm spring3-core-3.x.jar core.mf -C core ." +
        " && jar cf commons-lang3-3.12.0.jar -C plain ." +
        // Spring Boot stores its nested jars uncompressed.
        " && mkdir -p app/BOOT-INF/lib war/WEB-INF/lib" +
        " && cp demo-lib-1.2.3.jar spring3-core-3.x.jar app/BOOT-INF/lib/" +
        " && jar cfm app.jar app.mf -C app BOOT-INF/classes" +
        " && jar uf0 app.jar -C app BOOT-INF/lib" +
        " && cp spring3-core-3.x.jar commons-lang3-3.12.0.jar war/WEB-INF/lib/" +
        " && jar cf app.war -C war .");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static fs::path path(const std::string& name) { return dir_->path() / name; }

  static test::TempDir* dir_;
};
test::TempDir* JarFiles::dir_ = nullptr;

// Opens `name` in the fixture folder; the descriptor lives as long as the test.
struct Opened {
  std::unique_ptr<File> file;
  std::optional<ZipArchive> archive;
  std::string error;
};
Opened open_fixture(const fs::path& path, const ZipLimits& limits = {}) {
  Opened o;
  o.file = std::make_unique<File>(path);
  o.archive = ZipArchive::open_file(o.file->fd(), limits, o.error);
  return o;
}

TEST_F(JarFiles, ListsTheEntriesTheJarToolWrote) {
  auto o = open_fixture(path("demo-lib-1.2.3.jar"));
  ASSERT_TRUE(o.archive) << o.error;
  EXPECT_FALSE(o.archive->truncated());
  auto listed = names(*o.archive);
  for (std::string expected : {"META-INF/MANIFEST.MF", "demo/notes.txt",
                               "META-INF/maven/org.example/demo-lib/pom.properties"}) {
    EXPECT_NE(std::find(listed.begin(), listed.end(), expected), listed.end()) << expected;
  }
}

TEST_F(JarFiles, ReadsDeflatedMembers) {
  auto o = open_fixture(path("demo-lib-1.2.3.jar"));
  ASSERT_TRUE(o.archive) << o.error;
  const ZipEntry* notes = o.archive->find("demo/notes.txt");
  ASSERT_NE(notes, nullptr);
  EXPECT_EQ(notes->method, 8);
  EXPECT_LT(notes->compressed_size, notes->uncompressed_size);
  EXPECT_EQ(read_all(*o.archive, "demo/notes.txt"), file_bytes(path("lib/demo/notes.txt")));

  auto app = open_fixture(path("app.jar"));
  ASSERT_TRUE(app.archive) << app.error;
  EXPECT_EQ(read_all(*app.archive, "BOOT-INF/classes/demo/Hello.class"),
            file_bytes(path("app/BOOT-INF/classes/demo/Hello.class")));
}

TEST_F(JarFiles, ReadsAPrefixUpToTheBound) {
  auto o = open_fixture(path("demo-lib-1.2.3.jar"));
  ASSERT_TRUE(o.archive) << o.error;
  std::string whole = file_bytes(path("lib/demo/notes.txt"));
  const ZipEntry* notes = o.archive->find("demo/notes.txt");
  ASSERT_NE(notes, nullptr);
  std::string error;
  auto prefix = o.archive->read(*notes, 1000, error);
  ASSERT_TRUE(prefix) << error;
  EXPECT_TRUE(prefix->truncated);
  EXPECT_EQ(prefix->bytes, whole.substr(0, 1000));
  auto exact = o.archive->read(*notes, whole.size(), error);
  ASSERT_TRUE(exact) << error;
  EXPECT_FALSE(exact->truncated);
  EXPECT_EQ(exact->bytes, whole);
  // The archive's own limit binds too.
  ZipLimits small;
  small.max_member_bytes = 10;
  auto limited = open_fixture(path("demo-lib-1.2.3.jar"), small);
  ASSERT_TRUE(limited.archive) << limited.error;
  auto ten = limited.archive->read(*limited.archive->find("demo/notes.txt"), 1 << 20, error);
  ASSERT_TRUE(ten) << error;
  EXPECT_EQ(ten->bytes, whole.substr(0, 10));
  EXPECT_TRUE(ten->truncated);
}

TEST_F(JarFiles, ReadsAStoredNestedJarLikeSpringBoot) {
  auto o = open_fixture(path("app.jar"));
  ASSERT_TRUE(o.archive) << o.error;
  const ZipEntry* nested = o.archive->find("BOOT-INF/lib/demo-lib-1.2.3.jar");
  ASSERT_NE(nested, nullptr);
  EXPECT_EQ(nested->method, 0);
  std::string error;
  auto bytes = o.archive->read(*nested, 64 << 20, error);
  ASSERT_TRUE(bytes) << error;
  EXPECT_EQ(bytes->bytes, file_bytes(path("demo-lib-1.2.3.jar")));
  auto inner = ZipArchive::open_bytes(std::move(bytes->bytes), {}, error);
  ASSERT_TRUE(inner) << error;
  EXPECT_EQ(read_all(*inner, "demo/notes.txt"), file_bytes(path("lib/demo/notes.txt")));
  JarIdentity id = identify_jar(*inner, "app.jar!/BOOT-INF/lib/demo-lib-1.2.3.jar");
  EXPECT_EQ(id.group_id, "org.example");
  EXPECT_EQ(id.artifact_id, "demo-lib");
  EXPECT_EQ(id.version, "1.2.3");

  JarIdentity outer = identify_jar(*o.archive, "app.jar");
  EXPECT_EQ(outer.artifact_id, "demo-app");
  EXPECT_EQ(outer.version, "");
  EXPECT_EQ(outer.main_class, "org.springframework.boot.loader.JarLauncher");
}

TEST_F(JarFiles, ReadsADeflatedNestedJarInAWar) {
  auto o = open_fixture(path("app.war"));
  ASSERT_TRUE(o.archive) << o.error;
  const ZipEntry* nested = o.archive->find("WEB-INF/lib/spring3-core-3.x.jar");
  ASSERT_NE(nested, nullptr);
  EXPECT_EQ(nested->method, 8);
  std::string error;
  auto bytes = o.archive->read(*nested, 64 << 20, error);
  ASSERT_TRUE(bytes) << error;
  auto inner = ZipArchive::open_bytes(std::move(bytes->bytes), {}, error);
  ASSERT_TRUE(inner) << error;
  JarIdentity id = identify_jar(*inner, nested->name);
  EXPECT_EQ(id.artifact_id, "spring-core");
  EXPECT_EQ(id.version, "4.3.30.RELEASE");
}

TEST_F(JarFiles, IdentityFromPomThenManifestThenFileName) {
  auto pom = open_fixture(path("demo-lib-1.2.3.jar"));
  ASSERT_TRUE(pom.archive) << pom.error;
  JarIdentity id = identify_jar(*pom.archive, "renamed.jar");
  EXPECT_EQ(id.group_id, "org.example");
  EXPECT_EQ(id.artifact_id, "demo-lib");  // not the manifest's "Demo Library"
  EXPECT_EQ(id.version, "1.2.3");         // not the manifest's 9.9

  // Debian names the file spring3-core-3.x.jar; its manifest knows better.
  auto manifest = open_fixture(path("spring3-core-3.x.jar"));
  ASSERT_TRUE(manifest.archive) << manifest.error;
  id = identify_jar(*manifest.archive, path("spring3-core-3.x.jar").string());
  EXPECT_EQ(id.group_id, "");
  EXPECT_EQ(id.artifact_id, "spring-core");
  EXPECT_EQ(id.version, "4.3.30.RELEASE");
  EXPECT_EQ(id.main_class, "");

  auto plain = open_fixture(path("commons-lang3-3.12.0.jar"));
  ASSERT_TRUE(plain.archive) << plain.error;
  id = identify_jar(*plain.archive, path("commons-lang3-3.12.0.jar").string());
  EXPECT_EQ(id.artifact_id, "commons-lang3");
  EXPECT_EQ(id.version, "3.12.0");
}

TEST_F(JarFiles, ReadsZip64ArchivesFromInfoZip) {
  // zip -fz writes ZIP64 end records, a saturated directory offset and ZIP64 extra fields.
  fs::path zip64 = path("zip64.jar");
  run("cd " + quoted(dir_->path()) + " && zip -q -fz " + quoted(zip64) +
      " lib.mf demo-lib-1.2.3.jar");
  std::string bytes = file_bytes(zip64);
  ASSERT_NE(bytes.find("PK\x06\x06"), std::string::npos);
  auto o = open_fixture(zip64);
  ASSERT_TRUE(o.archive) << o.error;
  EXPECT_EQ(names(*o.archive), (std::vector<std::string>{"lib.mf", "demo-lib-1.2.3.jar"}));
  EXPECT_EQ(read_all(*o.archive, "demo-lib-1.2.3.jar"), file_bytes(path("demo-lib-1.2.3.jar")));
  EXPECT_EQ(read_all(*o.archive, "lib.mf"), file_bytes(path("lib.mf")));
}

TEST_F(JarFiles, ReadsZip64ExtraFieldsFromPython) {
  fs::path archive = path("python64.zip");
  run("python3 -c \"import zipfile,sys\n"
      "with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n"
      "  with z.open('a/big.txt', 'w', force_zip64=True) as f: f.write(b'abc' * 100000)\n"
      "  z.writestr('b.txt', b'small')\n\" " +
      quoted(archive));
  auto o = open_fixture(archive);
  ASSERT_TRUE(o.archive) << o.error;
  std::string big;
  for (int i = 0; i < 100000; ++i) big += "abc";
  EXPECT_EQ(read_all(*o.archive, "a/big.txt"), big);
  EXPECT_EQ(read_all(*o.archive, "b.txt"), "small");
}

TEST_F(JarFiles, ReadsAJarBehindALaunchScript) {
  // Spring Boot's "fully executable" jars: a shell script, then the archive.
  fs::path executable = path("executable.jar");
  std::string script = "#!/bin/sh\nexec java -jar \"$0\" \"$@\"\n" + std::string(3000, '#') + "\n";
  dir_->write("executable.jar", script + file_bytes(path("demo-lib-1.2.3.jar")));
  auto o = open_fixture(executable);
  ASSERT_TRUE(o.archive) << o.error;
  EXPECT_EQ(read_all(*o.archive, "demo/notes.txt"), file_bytes(path("lib/demo/notes.txt")));
}

TEST_F(JarFiles, EveryTruncationFailsCleanly) {
  std::string jar = file_bytes(path("spring3-core-3.x.jar"));
  ASSERT_GT(jar.size(), 100u);
  seconds([&] {
    for (std::size_t size = 0; size < jar.size(); ++size) {
      std::string error;
      EXPECT_FALSE(open_memory(jar.substr(0, size), error)) << size;
      EXPECT_FALSE(error.empty());
    }
  });
  dir_->write("cut.jar", jar.substr(0, jar.size() / 2));
  auto o = open_fixture(path("cut.jar"));
  EXPECT_FALSE(o.archive);
  EXPECT_NE(o.error.find("no end of central directory"), std::string::npos) << o.error;
}

TEST_F(JarFiles, DamagedBytesNeverCrashOrHang) {
  // Every member of thousands of randomly damaged copies: each is refused or read within bounds.
  std::string jar = file_bytes(path("app.jar"));
  std::mt19937 random(20240601);
  seconds([&] {
    for (int round = 0; round < 3000; ++round) {
      std::string copy = jar;
      int damage = 1 + static_cast<int>(random() % 8);
      for (int i = 0; i < damage; ++i) copy[random() % copy.size()] = static_cast<char>(random());
      std::string error;
      auto archive = open_memory(copy, error);
      if (!archive) {
        EXPECT_FALSE(error.empty());
        continue;
      }
      for (const auto& entry : archive->entries()) {
        auto member = archive->read(entry, 1 << 20, error);
        if (member) {
          EXPECT_LE(member->bytes.size(), 1u << 20);
        }
      }
    }
  });
}

TEST(ZipArchive, RefusesAnEmptyFile) {
  test::TempDir dir;
  auto o = open_fixture(dir.write("empty.jar", ""));
  EXPECT_FALSE(o.archive);
  EXPECT_EQ(o.error, "not a ZIP archive: 0 bytes");
}

TEST(ZipArchive, RefusesWhatIsNotAFile) {
  test::TempDir dir;
  File folder(dir.path());
  std::string error;
  EXPECT_FALSE(ZipArchive::open_file(folder.fd(), {}, error));
  EXPECT_EQ(error, "not a regular file");
}

TEST(ZipArchive, RefusesRandomBytes) {
  std::mt19937 random(7);
  for (int round = 0; round < 2000; ++round) {
    std::string bytes(random() % 4096, '\0');
    for (auto& c : bytes) c = static_cast<char>(random());
    // Now and then an end record signature where one would be.
    if (round % 2 && bytes.size() >= 22) bytes.replace(bytes.size() - 22, 4, "PK\x05\x06");
    std::string error;
    EXPECT_FALSE(open_memory(bytes, error));
    EXPECT_FALSE(error.empty());
  }
}

TEST(ZipArchive, ReadsAnEmptyArchive) {
  std::string error;
  auto archive = open_memory(build_zip({}), error);
  ASSERT_TRUE(archive) << error;
  EXPECT_TRUE(archive->entries().empty());
}

TEST(ZipArchive, ReadsFromAFileAndFromMemoryAlike) {
  test::TempDir dir;
  std::string text(100000, 'q');
  std::string zip = build_zip({stored("s.txt", "stored"), deflated("d.txt", text)});
  auto o = open_fixture(dir.write("x.zip", zip));
  ASSERT_TRUE(o.archive) << o.error;
  std::string error;
  auto memory = open_memory(zip, error);
  ASSERT_TRUE(memory) << error;
  for (const auto* archive : {&*o.archive, &*memory}) {
    EXPECT_EQ(read_all(*archive, "s.txt"), "stored");
    EXPECT_EQ(read_all(*archive, "d.txt"), text);
  }
}

TEST(ZipArchive, ListsHostileNamesAsWritten) {
  std::vector<RawMember> members = {stored("../../etc/passwd", "root"), stored("a\0b"s, "nul"),
                                    stored("/etc/shadow", "abs"), stored("", "empty name")};
  std::string error;
  auto archive = open_memory(build_zip(members), error);
  ASSERT_TRUE(archive) << error;
  EXPECT_EQ(names(*archive),
            (std::vector<std::string>{"../../etc/passwd", "a\0b"s, "/etc/shadow", ""}));
  EXPECT_EQ(archive->entries()[1].name.size(), 3u);
  EXPECT_EQ(read_all(*archive, "a\0b"s), "nul");
  EXPECT_EQ(read_all(*archive, "../../etc/passwd"), "root");
}

TEST(ZipArchive, RefusesANameOverTheLimit) {
  std::string error;
  EXPECT_FALSE(open_memory(build_zip({stored(std::string(5000, 'n'), "x")}), error));
  EXPECT_NE(error.find("name of 5000 bytes"), std::string::npos) << error;
}

TEST(ZipArchive, RefusesAnEntryCountThatLies) {
  std::vector<RawMember> three = {stored("a", "1"), stored("b", "2"), stored("c", "3")};
  std::string error;
  Layout million;
  million.zip64 = true;
  million.claimed_entries = 1'000'000;
  expect_bounded(64, [&] { EXPECT_FALSE(open_memory(build_zip(three, million), error)); });
  EXPECT_NE(error.find("claims 1000000 entries"), std::string::npos) << error;

  Layout more;
  more.claimed_entries = 4;
  EXPECT_FALSE(open_memory(build_zip(three, more), error));
  EXPECT_NE(error.find("claims 4 entries"), std::string::npos) << error;
  Layout fewer;
  fewer.claimed_entries = 2;
  EXPECT_FALSE(open_memory(build_zip(three, fewer), error));
  EXPECT_EQ(error, "end record claims 2 entries, the central directory holds 3");
}

TEST(ZipArchive, RefusesADirectoryOutsideTheFile) {
  std::vector<RawMember> one = {stored("a", "1")};
  std::string zip = build_zip(one);
  std::string error;
  Layout past;
  past.claimed_offset = zip.size() + 1000;
  EXPECT_FALSE(open_memory(build_zip(one, past), error));
  EXPECT_NE(error.find("central directory offset"), std::string::npos) << error;

  Layout huge;
  huge.claimed_size = 0xFFFFFFF0;
  EXPECT_FALSE(open_memory(build_zip(one, huge), error));
  EXPECT_NE(error.find("larger than the archive"), std::string::npos) << error;

  Layout zip64_past;
  zip64_past.zip64 = true;
  zip64_past.claimed_offset = 1ull << 60;
  EXPECT_FALSE(open_memory(build_zip(one, zip64_past), error));
  EXPECT_NE(error.find("central directory offset"), std::string::npos) << error;
}

TEST(ZipArchive, RefusesMemberDataOutsideTheArchive) {
  RawMember lying = stored("a", "1");
  lying.offset = 0x7FFFFFFF;
  std::string error;
  EXPECT_FALSE(open_memory(build_zip({lying}), error));
  EXPECT_NE(error.find("data outside the archive"), std::string::npos) << error;

  // A compressed size running past the directory's start.
  std::string zip = build_zip({stored("a", "12345")});
  std::size_t central = zip.find("PK\x01\x02");
  zip[central + 20] = static_cast<char>(0xFF);  // compressed size low byte: 255
  EXPECT_FALSE(open_memory(zip, error));
  EXPECT_NE(error.find("data outside the archive"), std::string::npos) << error;
}

TEST(ZipArchive, RefusesOverlappingMembers) {
  // Two directory entries for the same local header: how one kernel is counted many times.
  RawMember a = deflated("a", std::string(1 << 20, 'a'));
  RawMember b = a;
  b.name = "b";
  b.offset = 0;
  std::string error;
  EXPECT_FALSE(open_memory(build_zip({a, b}), error));
  EXPECT_NE(error.find("overlap"), std::string::npos) << error;
}

TEST(ZipArchive, ReadsZip64EndRecordsAndExtraFields) {
  Layout zip64;
  zip64.zip64 = true;
  std::string text(200000, 'z');
  std::string zip = build_zip({stored("s", "stored"), deflated("d", text)}, zip64);
  std::string error;
  auto archive = open_memory(zip, error);
  ASSERT_TRUE(archive) << error;
  EXPECT_EQ(read_all(*archive, "s"), "stored");
  EXPECT_EQ(read_all(*archive, "d"), text);
  // Prepended bytes leave the locator's offset wrong; the record is found before the locator.
  archive = open_memory(std::string(777, '#') + zip, error);
  ASSERT_TRUE(archive) << error;
  EXPECT_EQ(read_all(*archive, "d"), text);
  // Saturated fields with the ZIP64 records gone.
  std::size_t record = zip.find("PK\x06\x06");
  std::string damaged = zip;
  damaged[record] = 'X';
  damaged[zip.find("PK\x06\x07") + 8] = 'X';
  EXPECT_FALSE(open_memory(damaged, error));
  EXPECT_NE(error.find("ZIP64"), std::string::npos) << error;
}

TEST(ZipArchive, RefusesAZip64EntryWithoutItsExtraField) {
  std::string zip = build_zip({stored("a", "1")});
  std::size_t central = zip.find("PK\x01\x02");
  for (int i = 0; i < 4; ++i) zip[central + 24 + i] = static_cast<char>(0xFF);
  std::string error;
  EXPECT_FALSE(open_memory(zip, error));
  EXPECT_NE(error.find("ZIP64 extra field"), std::string::npos) << error;
}

TEST(ZipArchive, FindsTheEndRecordPastACommentFullOfFakeSignatures) {
  std::string fake;
  while (fake.size() + 4 <= 0xFFFF) fake += "PK\x05\x06";
  Layout layout;
  layout.comment = fake;
  std::string text(5000, 't');
  std::string zip = build_zip({deflated("t", text)}, layout);
  std::string error;
  std::optional<ZipArchive> archive;
  expect_bounded(64, [&] { archive = open_memory(zip, error); });
  ASSERT_TRUE(archive) << error;
  EXPECT_EQ(read_all(*archive, "t"), text);

  // Only fake signatures: refused, as fast.
  expect_bounded(64, [&] { EXPECT_FALSE(open_memory(std::string(1000, 'x') + fake, error)); });
  EXPECT_FALSE(error.empty());
}

TEST(ZipArchive, StopsListingAtTheEntryLimit) {
  // 150,000 real entries (ZIP64, since more than 65,535), listed up to the limit.
  std::vector<RawMember> many;
  many.reserve(150000);
  for (int i = 0; i < 150000; ++i) many.push_back(stored("f/" + std::to_string(i), ""));
  Layout zip64;
  zip64.zip64 = true;
  test::TempDir dir;
  fs::path file = dir.write("many.jar", build_zip(many, zip64));
  many.clear();
  Opened o;
  expect_bounded(128, [&] { o = open_fixture(file); });
  ASSERT_TRUE(o.archive) << o.error;
  EXPECT_TRUE(o.archive->truncated());
  EXPECT_EQ(o.archive->entries().size(), 100000u);
  EXPECT_EQ(o.archive->entries().back().name, "f/99999");

  ZipLimits small;
  small.max_directory_bytes = 1 << 20;
  o = open_fixture(file, small);
  ASSERT_TRUE(o.archive) << o.error;
  EXPECT_TRUE(o.archive->truncated());
  EXPECT_LT(o.archive->entries().size(), 20000u);
}

TEST(ZipArchive, RefusesADeflateBombFast) {
  // One gibibyte of zeros in about a megabyte.
  RawMember member = zeros_bomb_member();
  test::TempDir dir;
  auto o = open_fixture(dir.write("bomb.jar", build_zip({member})));
  ASSERT_TRUE(o.archive) << o.error;
  std::string error;
  expect_bounded(
      64, [&] { EXPECT_FALSE(o.archive->read(o.archive->entries()[0], 1ull << 40, error)); });
  EXPECT_NE(error.find("ZIP bomb"), std::string::npos) << error;

  // Without the ratio test the cap alone stops it.
  ZipLimits no_ratio;
  no_ratio.max_ratio = std::numeric_limits<std::uint32_t>::max();
  no_ratio.max_member_bytes = 16 << 20;
  auto capped = open_fixture(dir.path() / "bomb.jar", no_ratio);
  ASSERT_TRUE(capped.archive) << capped.error;
  expect_bounded(96, [&] {
    auto member = capped.archive->read(capped.archive->entries()[0], 1ull << 40, error);
    ASSERT_TRUE(member) << error;
    EXPECT_TRUE(member->truncated);
    EXPECT_EQ(member->bytes.size(), 16u << 20);
  });
}

TEST(ZipArchive, NeverTrustsTheDeclaredSize) {
  std::string text(1 << 20, 'a');
  for (std::size_t i = 0; i < text.size(); i += 7) text[i] = static_cast<char>('a' + i % 26);
  RawMember small_claim = deflated("claims-small", text);
  small_claim.uncompressed_size = 10;
  RawMember huge_claim = deflated("claims-huge", "tiny");
  huge_claim.uncompressed_size = 0xFFFFFFFE;
  RawMember stored_claim = stored("stored-claims-more", "12345");
  stored_claim.uncompressed_size = 1 << 30;
  std::string error;
  auto archive = open_memory(build_zip({small_claim, huge_claim, stored_claim}), error);
  ASSERT_TRUE(archive) << error;
  // The whole content is read, then found to differ from the claim.
  EXPECT_FALSE(archive->read(archive->entries()[0], 64 << 20, error));
  EXPECT_EQ(error, "member is 1048576 bytes, the directory says 10");
  // A claim of 4 GiB reserves nothing: memory stays flat.
  expect_bounded(16, [&] { EXPECT_FALSE(archive->read(archive->entries()[1], 64 << 20, error)); });
  EXPECT_EQ(error, "member is 4 bytes, the directory says 4294967294");
  EXPECT_FALSE(archive->read(archive->entries()[2], 64 << 20, error));
  EXPECT_EQ(error, "member is 5 bytes, the directory says 1073741824");
  // Read in part, it is what it is.
  auto prefix = archive->read(archive->entries()[0], 100, error);
  ASSERT_TRUE(prefix) << error;
  EXPECT_EQ(prefix->bytes, text.substr(0, 100));
}

TEST(ZipArchive, RefusesDamagedMembers) {
  std::string text(100000, 'd');
  for (std::size_t i = 0; i < text.size(); i += 3) text[i] = static_cast<char>(i);
  RawMember cut = deflated("cut", text);
  cut.payload.resize(cut.payload.size() / 2);
  RawMember garbage = deflated("garbage", text);
  for (std::size_t i = 0; i < garbage.payload.size(); ++i) garbage.payload[i] ^= 0x5A;
  RawMember wrong_crc = deflated("wrong-crc", text);
  wrong_crc.crc ^= 1;
  RawMember encrypted = stored("encrypted", "secret");
  encrypted.flags = 1;
  RawMember bzip2 = stored("bzip2", "BZh9");
  bzip2.method = 12;
  std::string zip = build_zip({cut, garbage, wrong_crc, encrypted, bzip2, stored("ok", "ok")});
  std::string error;
  auto archive = open_memory(zip, error);
  ASSERT_TRUE(archive) << error;
  EXPECT_EQ(read_all(*archive, "cut"), "<error: deflate data ends early>");
  EXPECT_NE(read_all(*archive, "garbage").find("<error: damaged deflate data"), std::string::npos);
  EXPECT_EQ(read_all(*archive, "wrong-crc"), "<error: member's CRC differs from the directory's>");
  EXPECT_EQ(read_all(*archive, "encrypted"), "<error: member is encrypted>");
  EXPECT_EQ(read_all(*archive, "bzip2"), "<error: compression method 12 is not supported>");
  EXPECT_EQ(read_all(*archive, "ok"), "ok");

  // A local header that is not one.
  std::string bad_local = build_zip({stored("ok", "ok")});
  bad_local[0] = 'X';
  archive = open_memory(bad_local, error);
  ASSERT_TRUE(archive) << error;
  EXPECT_EQ(read_all(*archive, "ok"), "<error: no local header at offset 0>");
  // A local extra field running into the directory.
  std::string long_extra = build_zip({stored("ok", "ok")});
  long_extra[28] = static_cast<char>(0xFF);
  archive = open_memory(long_extra, error);
  ASSERT_TRUE(archive) << error;
  EXPECT_EQ(read_all(*archive, "ok"), "<error: member data runs into the central directory>");
}

TEST(ZipArchive, RefusesANestedBomb) {
  // Archives inside archives, each layer with a bomb of its own, the innermost stored as Spring
  // Boot would: every layer opens, every bomb is refused, and the whole costs little.
  RawMember bomb = zeros_bomb_member();
  std::string inner = build_zip({bomb});
  std::string middle = build_zip({bomb, stored("BOOT-INF/lib/inner.jar", inner)});
  std::string outer = build_zip({bomb, deflated("WEB-INF/lib/middle.jar", middle)});
  std::string error;
  int bombs = 0;
  int layers = 0;
  expect_bounded(128, [&] {
    std::optional<ZipArchive> archive = open_memory(outer, error);
    while (archive) {
      ++layers;
      std::optional<ZipArchive> next;
      for (const auto& entry : archive->entries()) {
        auto member = archive->read(entry, 64 << 20, error);
        if (!member) {
          bombs += error.find("ZIP bomb") != std::string::npos;
          continue;
        }
        next = ZipArchive::open_bytes(std::move(member->bytes), {}, error);
      }
      archive = std::move(next);
    }
  });
  EXPECT_EQ(layers, 3);
  EXPECT_EQ(bombs, 3);
}

TEST(ZipArchive, RefusesAnArchiveOverTheSizeLimit) {
  ZipLimits limits;
  limits.max_archive_bytes = 100;
  std::string error;
  EXPECT_FALSE(open_memory(build_zip({stored("a", std::string(200, 'a'))}), error, limits));
  EXPECT_NE(error.find("over the limit of 100"), std::string::npos) << error;
}

// --- Identity -----------------------------------------------------------------------------------

TEST(ParseManifest, ReadsTheMainSectionWithContinuations) {
  std::string text =
      "Manifest-Version: 1.0\r\n"
      "Class-Path: lib/a.jar lib/b\r\n"
      " .jar lib/c.jar\r\n"
      "implementation-version: 5.3.20 \r\n"
      "Main-Class:demo.Main\r\n"
      "\r\n"
      "Name: demo/Main.class\r\n"
      "SHA-256-Digest: abc\r\n";
  auto attributes = parse_manifest(text);
  ASSERT_EQ(attributes.size(), 4u);
  EXPECT_EQ(attributes[1].second, "lib/a.jar lib/b.jar lib/c.jar");
  EXPECT_EQ(attributes[2].first, "implementation-version");  // as written
  EXPECT_EQ(manifest_value(attributes, "Implementation-Version"), "5.3.20");
  EXPECT_EQ(manifest_value(attributes, "MAIN-CLASS"), "demo.Main");
  EXPECT_EQ(manifest_value(attributes, "Name"), std::nullopt);  // per-entry sections are not read
}

TEST(ParseManifest, AcceptsEveryLineEnd) {
  for (std::string end : {"\n", "\r\n", "\r"}) {
    auto attributes = parse_manifest("A: 1" + end + "B: 2" + end + " 3" + end + end + "C: 4");
    ASSERT_EQ(attributes.size(), 2u) << end.size();
    EXPECT_EQ(attributes[1].second, "23");
  }
}

TEST(ParseManifest, SkipsNonsenseAndStaysBounded) {
  auto attributes = parse_manifest(" orphan continuation\nno colon here\n: no name\nA: 1\n");
  ASSERT_EQ(attributes.size(), 1u);
  EXPECT_EQ(attributes[0], (std::pair<std::string, std::string>{"A", "1"}));
  std::string many;
  for (int i = 0; i < 100000; ++i) many += "a:\n";
  EXPECT_EQ(parse_manifest(many).size(), 4096u);
}

TEST(ParsePomProperties, ReadsTheCoordinates) {
  JarIdentity id = parse_pom_properties(
      "#Generated by Maven\r\n"
      "#Tue Jun 01 00:00:00 UTC 2021\r\n"
      "! another comment\r\n"
      "  version = 2.13.3\r\n"
      "groupId:com.fasterxml.jackson.core\r\n"
      "artifactId=jackson\\-databind\r\n"
      "other=x\r\n");
  EXPECT_EQ(id.group_id, "com.fasterxml.jackson.core");
  EXPECT_EQ(id.artifact_id, "jackson-databind");
  EXPECT_EQ(id.version, "2.13.3");
  EXPECT_EQ(parse_pom_properties("#groupId=x\nversion\n").version, "");
}

TEST(NameAndVersionFromFileName, SplitsAtTheFirstDashBeforeADigit) {
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(name_and_version_from_file_name("spring-boot-starter-web-2.7.0.jar"),
            (P{"spring-boot-starter-web", "2.7.0"}));
  EXPECT_EQ(name_and_version_from_file_name("commons-lang3-3.12.0.jar"),
            (P{"commons-lang3", "3.12.0"}));
  EXPECT_EQ(name_and_version_from_file_name("guava-31.1-jre.jar"), (P{"guava", "31.1-jre"}));
  EXPECT_EQ(name_and_version_from_file_name("foo.jar"), (P{"foo", ""}));
  EXPECT_EQ(name_and_version_from_file_name("/opt/app/WEB-INF/lib/jackson-core-2.13.3.JAR"),
            (P{"jackson-core", "2.13.3"}));
  EXPECT_EQ(name_and_version_from_file_name("app.jar!/BOOT-INF/lib/snakeyaml-1.30.jar"),
            (P{"snakeyaml", "1.30"}));
  EXPECT_EQ(name_and_version_from_file_name("jenkins.war"), (P{"jenkins", ""}));
  EXPECT_EQ(name_and_version_from_file_name("-1.0.jar"), (P{"-1.0", ""}));
  EXPECT_EQ(name_and_version_from_file_name("name-"), (P{"name-", ""}));
  EXPECT_EQ(name_and_version_from_file_name(""), (P{"", ""}));
}

TEST(IdentifyJar, PicksThePomOfTheFileInAShadedJar) {
  std::string error;
  auto shaded = open_memory(
      build_zip({stored("META-INF/maven/com.google.guava/guava/pom.properties",
                        "groupId=com.google.guava\nartifactId=guava\nversion=31.1-jre\n"),
                 stored("META-INF/maven/org.example/shaded-app/pom.properties",
                        "groupId=org.example\nartifactId=shaded-app\nversion=2.0\n"),
                 stored("META-INF/MANIFEST.MF",
                        "Bundle-SymbolicName: org.example.app;singleton:=true\n"
                        "Bundle-Version: 2.0.0.qualifier\n")}),
      error);
  ASSERT_TRUE(shaded) << error;
  JarIdentity id = identify_jar(*shaded, "shaded-app-2.0.jar");
  EXPECT_EQ(id.artifact_id, "shaded-app");
  EXPECT_EQ(id.version, "2.0");
  // Renamed: no pom can be told to be its own, so the manifest speaks.
  id = identify_jar(*shaded, "app.jar");
  EXPECT_EQ(id.group_id, "");
  EXPECT_EQ(id.artifact_id, "org.example.app");
  EXPECT_EQ(id.version, "2.0.0.qualifier");
}

}  // namespace
}  // namespace hostprint::collectors
