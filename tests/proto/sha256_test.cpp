#include "proto/sha256.hpp"

#include "proto/digest.hpp"

#include <gtest/gtest.h>
#include <stdio.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include "tests/temp_dir.hpp"

namespace hostprint::proto {
namespace {

// Each test runs on both block functions: the SHA extensions' (where this CPU has them) and the
// portable one, which the agent uses elsewhere and which is otherwise never run here.
class Sha256Test : public ::testing::TestWithParam<Sha256Engine> {
 protected:
  void SetUp() override {
    if (GetParam() == Sha256Engine::fastest && !sha256_uses_cpu_extensions())
      GTEST_SKIP() << "this CPU has no SHA extensions: the portable path is the only one";
  }

  std::string hex(std::string_view message) const {
    Sha256 hash(GetParam());
    hash.update(message);
    return hex_text(hash.finish());
  }
};

INSTANTIATE_TEST_SUITE_P(Engines, Sha256Test,
                         ::testing::Values(Sha256Engine::fastest, Sha256Engine::portable),
                         [](const auto& info) {
                           return info.param == Sha256Engine::fastest ? "ShaExtensions"
                                                                      : "Portable";
                         });

// The examples of FIPS 180-4 (NIST's "SHA-256" example document and the Secure Hash Standard
// Validation System's short and long messages).
TEST_P(Sha256Test, NistExamples) {
  EXPECT_EQ(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // 448 bits: the length no longer fits in the first block, so padding takes a second.
  EXPECT_EQ(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // 896 bits: two blocks of message.
  EXPECT_EQ(hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST_P(Sha256Test, OneMillionAsInUnevenPieces) {
  const std::string million(1'000'000, 'a');
  Sha256 hash(GetParam());
  // Piece sizes around and across block boundaries, and some of many blocks at once.
  const std::size_t sizes[] = {1, 63, 64, 65, 127, 3, 4096, 7, 100'000, 55, 56, 57};
  std::size_t done = 0;
  for (std::size_t i = 0; done < million.size(); ++i) {
    const std::size_t piece = std::min(sizes[i % std::size(sizes)], million.size() - done);
    hash.update(std::string_view(million).substr(done, piece));
    done += piece;
  }
  EXPECT_EQ(hex_text(hash.finish()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(hex(million), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_P(Sha256Test, AnySplitGivesTheWholeMessagesDigest) {
  std::mt19937 random(1804);
  std::string message;
  for (std::size_t size = 0; size <= 200; ++size) {
    const std::string whole = hex(message);
    for (std::size_t split = 0; split <= size; ++split) {
      Sha256 hash(GetParam());
      hash.update(std::string_view(message).substr(0, split));
      hash.update(std::string_view(message).substr(split));
      ASSERT_EQ(hex_text(hash.finish()), whole) << "size " << size << ", split at " << split;
    }
    message.push_back(static_cast<char>(random()));
  }
}

TEST_P(Sha256Test, FinishStartsANewMessage) {
  Sha256 hash(GetParam());
  hash.update(std::string_view("some earlier message, longer than one block of sixty-four bytes"));
  hash.finish();
  hash.update(std::string_view("abc"));
  EXPECT_EQ(hex_text(hash.finish()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// An independent truth: coreutils' sha256sum over random messages of every length up to 300
// bytes and a few of megabytes, the latter fed in random pieces.
TEST_P(Sha256Test, AgreesWithSha256sum) {
  test::TempDir dir;
  std::mt19937_64 random(20'240'611);
  std::map<std::string, std::string> ours;  // file name -> digest
  auto add = [&](const std::string& name, std::size_t size, bool in_pieces) {
    std::string message(size, '\0');
    for (char& c : message) c = static_cast<char>(random());
    dir.write(name, message);
    Sha256 hash(GetParam());
    for (std::size_t done = 0; done < size;) {
      const std::size_t piece = in_pieces ? std::min<std::size_t>(random() % 200'000, size - done)
                                          : size;
      hash.update(std::string_view(message).substr(done, piece));
      done += piece;
    }
    ours[name] = hex_text(hash.finish());
  };
  for (std::size_t size = 0; size <= 300; ++size)
    add("short-" + std::to_string(size), size, false);
  for (std::size_t size : {1'000'000u, 1'048'583u, 3'141'593u, 5'242'879u})
    add("long-" + std::to_string(size), size, true);

  std::map<std::string, std::string> theirs;
  FILE* pipe = ::popen(("cd '" + dir.path().string() + "' && sha256sum -- *").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char line[512];
  while (std::fgets(line, sizeof line, pipe)) {
    std::string text(line);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    // "<64 hex digits>  <name>"
    if (text.size() > 66) theirs[text.substr(66)] = text.substr(0, 64);
  }
  ASSERT_EQ(::pclose(pipe), 0) << "sha256sum failed";
  EXPECT_EQ(theirs, ours);
}

#if defined(__x86_64__)
TEST(Sha256, UsesTheShaExtensionsExactlyWhenTheCpuHasThem) {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  bool sha_ni = false;
  while (std::getline(cpuinfo, line))
    if (line.starts_with("flags") && (line + ' ').find(" sha_ni ") != std::string::npos)
      sha_ni = true;
  EXPECT_EQ(sha256_uses_cpu_extensions(), sha_ni);
}
#endif

}  // namespace
}  // namespace hostprint::proto
