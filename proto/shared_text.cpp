#include "proto/shared_text.hpp"

#include <cstring>
#include <limits>
#include <new>
#include <ostream>
#include <stdexcept>

namespace hostprint::proto {

SharedText::SharedText(std::string_view text) {
  if (text.empty()) return;
  if (text.size() > std::numeric_limits<std::uint32_t>::max())
    throw std::length_error("SharedText: longer than 4 GiB");
  void* memory = ::operator new(sizeof(Block) + text.size());
  block_ = new (memory) Block{{1}, static_cast<std::uint32_t>(text.size())};
  std::memcpy(static_cast<char*>(memory) + sizeof(Block), text.data(), text.size());
}

void SharedText::release() noexcept {
  if (!block_) return;
  if (block_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    block_->~Block();
    ::operator delete(block_);
  }
  block_ = nullptr;
}

std::ostream& operator<<(std::ostream& out, const SharedText& text) { return out << text.view(); }

}  // namespace hostprint::proto
