#pragma once
// Text of /proc files (modules, net/{tcp,tcp6,udp,udp6}), for the parsers' and the collectors'
// tests.
#include <string_view>

#include "proto/assets.hpp"

namespace hostprint::test {

inline constexpr std::string_view proc_modules_text =
    "nf_tables 299008 0 - Live 0xffffffffc0a4e000\n"
    "tls 139264 0 - Live 0xffffffffc0a19000\n"
    "snd_hda_codec_hdmi 86016 1 - Live 0x0000000000000000\n"
    "nvidia 56111104 2 nvidia_uvm,nvidia_modeset, Live 0xffffffffc1000000 (POE)\n"
    "loop_mod 16384 0 - Loading 0xffffffffc0000000 (OE+)\n";

inline constexpr proto::PortType tcp = proto::PortType::tcp;
inline constexpr proto::PortType tcp6 = proto::PortType::tcp6;
inline constexpr proto::PortType udp = proto::PortType::udp;
inline constexpr proto::PortType udp6 = proto::PortType::udp6;

// Captured from a Debian 12 host, then edited to cover the cases.
inline constexpr std::string_view proc_net_tcp =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode                                                     \n"
    "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "21034 1 0000000000000000 100 0 0 10 0                     \n"
    "   1: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "19821 1 0000000000000000 100 0 0 10 0                     \n"
    "   2: 0F02000A:0016 0202000A:A2C4 01 00000000:00000000 02:0009D2F6 00000000     0        0 "
    "58731 4 0000000000000000 20 4 31 10 -1                    \n"
    "   3: 0F02000A:9E3A 8EFA1FAC:01BB 06 00000000:00000000 03:00000F2B 00000000     0        0 "
    "0 3 0000000000000000                                      \n"
    "   4: 0100007F:1F90 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 "
    "61234 1 0000000000000000 100 0 0 10 0                     \n";

inline constexpr std::string_view proc_net_tcp6 =
    "  sl  local_address                         remote_address                        st "
    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000     0        0 21036 1 0000000000000000 100 0 0 10 0\n"
    "   1: 00000000000000000000000001000000:0CEA 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000   106        0 22187 1 0000000000000000 100 0 0 10 0\n"
    "   2: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:D2A6 01 "
    "00000000:00000000 00:00000000 00000000  1000        0 80112 1 0000000000000000 20 4 30 10 "
    "-1\n";

inline constexpr std::string_view proc_net_udp =
    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode ref pointer drops             \n"
    "  297: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 "
    "18634 2 0000000000000000 0          \n"
    "  312: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 "
    "20551 2 0000000000000000 0          \n"
    "  601: 0F02000A:9C40 08080808:0035 01 00000000:00000000 00:00000000 00000000  1000        0 "
    "77310 2 0000000000000000 0          \n";

inline constexpr std::string_view proc_net_udp6 =
    "  sl  local_address                         remote_address                        st "
    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
    "  103: 00000000000000000000000000000000:14E9 00000000000000000000000000000000:0000 07 "
    "00000000:00000000 00:00000000 00000000   104        0 19240 2 0000000000000000 0\n"
    "  221: 00000000000000000000000001000000:0223 00000000000000000000000001000000:D431 01 "
    "00000000:00000000 00:00000000 00000000     0        0 19241 2 0000000000000000 0\n";

}  // namespace hostprint::test
