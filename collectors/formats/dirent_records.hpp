#pragma once
// The records getdents64 fills a buffer with (struct linux_dirent64), walked with their bounds
// checked: /proc's pid entries and a process's fd entries are both read this way.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace hostprint::collectors {

// Calls each(inode, name) for every record in `records` until it returns false. Returns false
// when a record is malformed (too short, past the buffer, a name without its NUL); the records
// before it have been handed over.
template <typename Each>
bool for_each_dirent64(std::span<const std::byte> records, Each&& each) {
  // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
  constexpr std::size_t name_offset = 19;
  while (!records.empty()) {
    if (records.size() < name_offset + 1) return false;
    std::uint64_t inode = 0;
    std::uint16_t length = 0;
    std::memcpy(&inode, records.data(), sizeof inode);
    std::memcpy(&length, records.data() + 16, sizeof length);
    if (length < name_offset + 1 || length > records.size()) return false;
    const auto* name = reinterpret_cast<const char*>(records.data() + name_offset);
    const void* nul = std::memchr(name, '\0', length - name_offset);
    if (nul == nullptr) return false;
    if (!each(inode, std::string_view(name, static_cast<std::size_t>(
                                                static_cast<const char*>(nul) - name))))
      return true;
    records = records.subspan(length);
  }
  return true;
}

}  // namespace hostprint::collectors
