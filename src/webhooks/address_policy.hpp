#pragma once
// Which addresses a webhook may be delivered to. A merchant chooses the URL, so without a
// check it could make the gateway POST to the gateway's own host, the private network it
// runs in, or a cloud metadata service (server-side request forgery). Pure: no DNS here;
// the delivery client checks each address a name resolved to, right before connecting, so
// a name that changes its answer between checks (DNS rebinding) gains nothing.
#include <string_view>

namespace tillgate::webhooks {

// True for an address on the public internet. False for what is not: IPv4 0/8 ("this
// network"), 10/8, 100.64/10 (carrier NAT), 127/8, 169.254/16 (link-local and cloud
// metadata), 172.16/12, 192.0.0/24, 192.168/16, 198.18/15 (benchmarking), 224/4
// (multicast) and 240/4 (reserved, broadcast); IPv6 ::, ::1, fc00::/7 (unique local),
// fe80::/10 (link-local), ff00::/8 (multicast), 100::/64 (discard), 2001:db8::/32
// (documentation), and IPv4 addresses inside IPv6 (::ffff:0:0/96 mapped, 64:ff9b::/96
// NAT64, ::/96 compatible) by the IPv4 rule. Text that is not an IP address is false.
[[nodiscard]] bool is_public_address(std::string_view address);

}  // namespace tillgate::webhooks
