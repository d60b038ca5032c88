// Shell patterns matched inside a root.
#include "collectors/io/root_glob.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "collectors/web_sites.hpp"  // file_source_in_root, read through the same root
#include "tests/temp_dir.hpp"

namespace hostprint::collectors {
namespace {

namespace fs = std::filesystem;
using Paths = std::vector<std::string>;

struct GlobTree {
  test::TempDir dir;
  GlobTree() {
    for (const char* f : {"etc/nginx/sites-enabled/a.conf", "etc/nginx/sites-enabled/b.conf",
                          "etc/nginx/sites-enabled/ab.conf", "etc/nginx/sites-enabled/c.txt",
                          "etc/nginx/sites-enabled/.hidden.conf", "etc/nginx/conf.d/x.conf",
                          "etc/nginx/modules/y.conf", "etc/apache2/mods-enabled/ssl.load"})
      dir.write(f, "x\n");
  }
  Paths glob(const std::string& pattern, std::size_t max = 100) const {
    return glob_in_root(dir.path(), pattern, max);
  }
};

TEST(GlobInRoot, Star) {
  GlobTree t;
  EXPECT_EQ(t.glob("/etc/nginx/sites-enabled/*"),
            (Paths{"/etc/nginx/sites-enabled/a.conf", "/etc/nginx/sites-enabled/ab.conf",
                   "/etc/nginx/sites-enabled/b.conf", "/etc/nginx/sites-enabled/c.txt"}));
  EXPECT_EQ(t.glob("/etc/nginx/sites-enabled/*.conf"),
            (Paths{"/etc/nginx/sites-enabled/a.conf", "/etc/nginx/sites-enabled/ab.conf",
                   "/etc/nginx/sites-enabled/b.conf"}));
  // A wildcard in a directory component; '/' is never matched by '*'.
  EXPECT_EQ(t.glob("/etc/nginx/*/*.conf"),
            (Paths{"/etc/nginx/conf.d/x.conf", "/etc/nginx/modules/y.conf",
                   "/etc/nginx/sites-enabled/a.conf", "/etc/nginx/sites-enabled/ab.conf",
                   "/etc/nginx/sites-enabled/b.conf"}));
  EXPECT_EQ(t.glob("/etc/*.conf"), Paths{});
}

TEST(GlobInRoot, LeadingDotNeedsADot) {
  GlobTree t;
  EXPECT_EQ(t.glob("/etc/nginx/sites-enabled/.*.conf"),
            Paths{"/etc/nginx/sites-enabled/.hidden.conf"});
}

TEST(GlobInRoot, QuestionMarkAndBrackets) {
  GlobTree t;
  EXPECT_EQ(t.glob("/etc/nginx/sites-enabled/?.conf"),
            (Paths{"/etc/nginx/sites-enabled/a.conf", "/etc/nginx/sites-enabled/b.conf"}));
  EXPECT_EQ(t.glob("/etc/nginx/sites-enabled/[bc].*"),
            (Paths{"/etc/nginx/sites-enabled/b.conf", "/etc/nginx/sites-enabled/c.txt"}));
  EXPECT_EQ(t.glob("/etc/nginx/sites-enabled/[!a]*"),
            (Paths{"/etc/nginx/sites-enabled/b.conf", "/etc/nginx/sites-enabled/c.txt"}));
}

TEST(GlobInRoot, NoMatchAndLiterals) {
  GlobTree t;
  EXPECT_EQ(t.glob("/etc/nginx/sites-enabled/*.zip"), Paths{});
  EXPECT_EQ(t.glob("/nowhere/*/x"), Paths{});
  // Without wildcards: the path itself when it exists.
  EXPECT_EQ(t.glob("/etc/nginx/conf.d/x.conf"), Paths{"/etc/nginx/conf.d/x.conf"});
  EXPECT_EQ(t.glob("/etc/nginx/conf.d/missing.conf"), Paths{});
  EXPECT_EQ(t.glob("etc//nginx/./conf.d/x.conf"), Paths{"/etc/nginx/conf.d/x.conf"});
}

TEST(GlobInRoot, BoundOnMatches) {
  GlobTree t;
  EXPECT_EQ(t.glob("/etc/nginx/sites-enabled/*", 2),
            (Paths{"/etc/nginx/sites-enabled/a.conf", "/etc/nginx/sites-enabled/ab.conf"}));
  EXPECT_EQ(t.glob("/etc/nginx/sites-enabled/*", 0), Paths{});
  test::TempDir many;
  for (int i = 0; i < 300; ++i) many.write("d/f" + std::to_string(1000 + i), "");
  auto got = glob_in_root(many.path(), "/d/f*", 50);
  ASSERT_EQ(got.size(), 50u);
  EXPECT_EQ(got.front(), "/d/f1000");
  EXPECT_EQ(got.back(), "/d/f1049");
}

TEST(GlobInRoot, SymlinksResolveInsideTheRoot) {
  test::TempDir outside;
  outside.write("secret/a.conf", "outside\n");
  GlobTree t;
  // An absolute link and a relative one climbing out: both stay in the root.
  fs::create_directory_symlink(outside.path() / "secret", t.dir.path() / "etc/abs");
  fs::create_directory_symlink("../../../../../../../../../..", t.dir.path() / "etc/up");
  EXPECT_EQ(t.glob("/etc/abs/*"), Paths{});
  EXPECT_EQ(t.glob("/etc/up/*/nginx/conf.d/*"), Paths{"/etc/up/etc/nginx/conf.d/x.conf"});
  EXPECT_EQ(t.glob("/etc/up" + outside.path().string() + "/secret/*"), Paths{});
  // Inside the root the link is followed, to the root's own file.
  t.dir.write(outside.path().relative_path().string() + "/secret/in.conf", "inside\n");
  EXPECT_EQ(t.glob("/etc/abs/*.conf"), Paths{"/etc/abs/in.conf"});
  auto files = file_source_in_root(t.dir.path());
  EXPECT_EQ(files.read("/etc/abs/in.conf", 100), std::optional<std::string>("inside\n"));
  EXPECT_EQ(files.read("/etc/abs/a.conf", 100), std::nullopt);
}

}  // namespace
}  // namespace hostprint::collectors
