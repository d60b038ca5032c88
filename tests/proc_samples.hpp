#pragma once
// Text of /proc files, for the parsers' and the collectors' tests.
#include <string_view>

namespace hostprint::test {

inline constexpr std::string_view proc_modules_text =
    "nf_tables 299008 0 - Live 0xffffffffc0a4e000\n"
    "tls 139264 0 - Live 0xffffffffc0a19000\n"
    "snd_hda_codec_hdmi 86016 1 - Live 0x0000000000000000\n"
    "nvidia 56111104 2 nvidia_uvm,nvidia_modeset, Live 0xffffffffc1000000 (POE)\n"
    "loop_mod 16384 0 - Loading 0xffffffffc0000000 (OE+)\n";

}  // namespace hostprint::test
