#include "collectors/io/digest.hpp"
#include "proto/digest.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

#include "collectors/io/unique_fd.hpp"
#include "tests/temp_dir.hpp"

namespace hostprint::collectors {
namespace {

TEST(Digest, Sha256OfTextIsTheStandardOne) {
  EXPECT_EQ(proto::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(proto::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Digest, Sha256OfAFileReadsItWholeWithinTheBound) {
  test::TempDir dir;
  std::string big(200 * 1024, 'x');  // several blocks
  auto path = dir.write("big", big);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  EXPECT_EQ(sha256_of_open_file(fd.get(), 1 << 20), proto::sha256_hex(big));
  EXPECT_EQ(sha256_of_open_file(fd.get(), 100 * 1024), std::nullopt);  // longer than allowed
}

}  // namespace
}  // namespace hostprint::collectors
