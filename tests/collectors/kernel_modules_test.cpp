#include "collectors/kernel_modules.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "tests/proc_samples.hpp"
#include "tests/scan_chain.hpp"
#include "tests/temp_dir.hpp"

namespace hostprint::collectors {
namespace {

using test::proc_modules_text;

TEST(KernelModulesCollector, MissingFileIsZeroWithoutError) {
  test::TempDir fake_proc;
  KernelModulesCollector collector;
  ScanContext context;
  context.proc = fake_proc.path();
  auto outcome = collector.collect(context);
  EXPECT_TRUE(outcome.complete);
  EXPECT_TRUE(outcome.errors.empty());
  EXPECT_EQ(collector.item_count(), 0u);
}

TEST(KernelModulesCollector, ReadsPreparedText) {
  test::TempDir fake_proc;
  fake_proc.write("modules", proc_modules_text);
  KernelModulesCollector collector;
  ScanContext context;
  context.proc = fake_proc.path();
  auto outcome = collector.collect(context);
  EXPECT_TRUE(outcome.complete);
  EXPECT_TRUE(outcome.errors.empty());
  EXPECT_EQ(collector.item_count(), 5u);
}

TEST(KernelModulesCollector, FarLargerThanRealIsBounded) {
  test::TempDir fake_proc;
  std::string huge;
  for (int i = 0; huge.size() <= KernelModulesCollector::max_file_bytes + 4096; ++i)
    huge += "mod" + std::to_string(i) + " 16384 0 - Live 0x0\n";
  fake_proc.write("modules", huge);
  KernelModulesCollector collector;
  ScanContext context;
  context.proc = fake_proc.path();
  auto outcome = collector.collect(context);
  EXPECT_TRUE(outcome.complete);
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_NE(outcome.errors[0].find("larger than"), std::string::npos);
  EXPECT_GT(collector.item_count(), 100000u);
  // Every module kept is a whole line: none cut at the bound.
  EXPECT_EQ(collector.items()->back().size, 16384u);
}

TEST(KernelModulesCollector, VersionsFromSysAndFilesFromModulesDep) {
  test::TempDir proc, sys, root;
  proc.write("modules", proc_modules_text);
  proc.write("sys/kernel/osrelease", "6.1.0-test\n");
  sys.write("module/nf_tables/srcversion", "A1B2C3D4E5F60718293A4B5\n");
  sys.write("module/nvidia/version", "535.104.05\n");
  sys.write("module/nvidia/srcversion", "FEDCBA9876543210FEDCBA9\n");
  root.write("lib/modules/6.1.0-test/modules.dep",
             "kernel/net/netfilter/nf_tables.ko.xz: kernel/lib/libcrc32c.ko.xz\n"
             "kernel/net/tls/tls.ko.zst:\n"
             "updates/dkms/nvidia.ko: updates/dkms/nvidia-uvm.ko\n"
             "/opt/extra/loop-mod.ko:\n"
             "garbage without colon\n"
             "kernel/sound/snd-hda-codec-hdmi.ko.gz: x.ko\n");
  // Another release's tree is not looked at.
  root.write("lib/modules/5.10.0-old/modules.dep", "kernel/other/tls.ko:\n");
  KernelModulesCollector collector(sys.path());
  ScanContext context;
  context.proc = proc.path();
  context.root = root.path();
  auto outcome = collector.collect(context);
  EXPECT_TRUE(outcome.complete);
  EXPECT_TRUE(outcome.errors.empty());
  std::map<std::string, KernelModule> by_name;
  for (const auto& m : *collector.items()) by_name[m.name] = m;
  ASSERT_EQ(by_name.size(), 5u);
  EXPECT_EQ(by_name["nf_tables"].path, "/lib/modules/6.1.0-test/kernel/net/netfilter/nf_tables.ko.xz");
  EXPECT_EQ(by_name["nf_tables"].srcversion, "A1B2C3D4E5F60718293A4B5");
  EXPECT_EQ(by_name["nf_tables"].version, "");
  EXPECT_EQ(by_name["tls"].path, "/lib/modules/6.1.0-test/kernel/net/tls/tls.ko.zst");
  EXPECT_EQ(by_name["tls"].srcversion, "");
  EXPECT_EQ(by_name["nvidia"].path, "/lib/modules/6.1.0-test/updates/dkms/nvidia.ko");
  EXPECT_EQ(by_name["nvidia"].version, "535.104.05");
  EXPECT_EQ(by_name["nvidia"].srcversion, "FEDCBA9876543210FEDCBA9");
  EXPECT_EQ(by_name["loop_mod"].path, "/opt/extra/loop-mod.ko");
  EXPECT_EQ(by_name["snd_hda_codec_hdmi"].path,
            "/lib/modules/6.1.0-test/kernel/sound/snd-hda-codec-hdmi.ko.gz");

  // A new modules.dep (depmod) is read again; without one, no paths.
  root.write("lib/modules/6.1.0-test/modules.dep", "kernel/net/tls/tls2/tls.ko:\n");
  ASSERT_TRUE(collector.collect(context).complete);
  for (const auto& m : *collector.items())
    EXPECT_EQ(m.path, m.name == "tls" ? "/lib/modules/6.1.0-test/kernel/net/tls/tls2/tls.ko" : "")
        << m.name;
  std::filesystem::remove(root.path() / "lib/modules/6.1.0-test/modules.dep");
  ASSERT_TRUE(collector.collect(context).complete);
  for (const auto& m : *collector.items()) EXPECT_EQ(m.path, "") << m.name;
}

TEST(KernelModulesCollector, ModulesDepCannotLeadOutOfTheRoot) {
  test::TempDir proc, sys, root, outside;
  proc.write("modules", proc_modules_text);
  proc.write("sys/kernel/osrelease", "6.1.0-test\n");
  outside.write("modules.dep", "kernel/net/tls/tls.ko:\n");
  std::filesystem::create_directories(root.path() / "lib/modules/6.1.0-test");
  std::filesystem::create_symlink(outside.path() / "modules.dep",
                                  root.path() / "lib/modules/6.1.0-test/modules.dep");
  KernelModulesCollector collector(sys.path());
  ScanContext context;
  context.proc = proc.path();
  context.root = root.path();
  ASSERT_TRUE(collector.collect(context).complete);
  for (const auto& m : *collector.items()) EXPECT_EQ(m.path, "") << m.name;
}

TEST(KernelModulesCollector, LiveSrcversionAgreesWithModinfo) {
  KernelModulesCollector collector;
  ASSERT_TRUE(collector.collect(ScanContext{}).complete);
  if (collector.items()->empty()) GTEST_SKIP() << "no loaded modules on this machine";
  if (std::system("modinfo --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "no modinfo";
  for (const auto& m : *collector.items()) {
    std::string out;
    if (FILE* p = ::popen(("modinfo -F srcversion " + m.name + " 2>/dev/null").c_str(), "r")) {
      char buffer[256];
      while (std::fgets(buffer, sizeof buffer, p)) out += buffer;
      ::pclose(p);
    }
    while (!out.empty() && out.back() == '\n') out.pop_back();
    if (out.empty()) continue;  // built in, or its file is not installed
    EXPECT_EQ(m.srcversion, out) << m.name;
    EXPECT_FALSE(m.path.empty()) << m.name;
  }
}

TEST(KernelModulesCollector, LiveMachineMatchesProcModules) {
  // This machine's kernel may have no module support; either way the collector agrees with it.
  KernelModulesCollector collector;
  auto outcome = collector.collect(ScanContext{});
  EXPECT_TRUE(outcome.complete);
  EXPECT_TRUE(outcome.errors.empty());
  std::size_t expected = 0;
  if (std::filesystem::exists("/proc/modules")) {
    std::ifstream in("/proc/modules");
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) ++expected;
  }
  EXPECT_EQ(collector.item_count(), expected);
}

}  // namespace
}  // namespace hostprint::collectors
