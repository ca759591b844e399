// SPDX-License-Identifier: Apache-2.0
// wardctl keygen: the policy signing key pair.
#include <filesystem>
#include <system_error>

#include "ward/ctl/cli.h"
#include "ward/ctl/commands.h"
#include "ward/policy/signing.h"

namespace ward::ctl {
namespace {

constexpr std::string_view kDefaultName = "ward-policy";

bool IsFileStem(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.size() > 64) {
    return false;
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

int RunKeygen(const Args& args, Io& io) {
  const std::filesystem::path dir = *args.value("out-dir");
  const std::string name = args.value("name").value_or(std::string(kDefaultName));
  if (!IsFileStem(name)) {
    io.err << "wardctl keygen: --name may use letters, digits, '.', '_' and '-' (not first), at "
              "most 64 (see 'wardctl keygen --help')\n";
    return kExitUsage;
  }
  const std::filesystem::path private_path = dir / (name + ".key");
  const std::filesystem::path public_path = dir / (name + ".pub");

  std::error_code ec;
  if (std::filesystem::create_directories(dir, ec)) {
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  }
  if (ec) {
    return Fail(io, "cannot create " + dir.string() + ": " + ec.message());
  }
  for (const auto& path : {private_path, public_path}) {
    if (std::filesystem::exists(path, ec)) {
      return Fail(io, path.string() +
                          " exists already; not overwriting it (choose another "
                          "--name or --out-dir)");
    }
  }

  auto key = policy::SigningKey::Generate();
  if (!key) {
    return Fail(io, key.error());
  }
  if (auto written = key->WriteFile(private_path); !written) {
    return Fail(io, written.error());
  }
  if (auto written = key->public_key().WriteFile(public_path); !written) {
    std::filesystem::remove(private_path, ec);  // no private key without its public half
    return Fail(io, written.error());
  }
  io.out << "Made policy signing key " << key->key_id() << ".\n"
         << "  private key: " << private_path.string()
         << "  (mode 0600: keep it secret, ideally offline)\n"
         << "  public key:  " << public_path.string() << "  (install it on every laptop)\n";
  return kExitOk;
}

}  // namespace

Command KeygenCommand() {
  return Command{
      .name = "keygen",
      .summary = "make an Ed25519 key pair for signing policies",
      .description =
          "Makes an Ed25519 key pair for signing policies: DIR/NAME.key, the private key\n"
          "(unencrypted PKCS#8 PEM, mode 0600; keep it on the signing machine only) and\n"
          "DIR/NAME.pub, the public key (PEM) that every laptop pins. Prints the key id (the\n"
          "first 16 hex digits of SHA-256 of the raw public key). Never overwrites a file.",
      .options =
          {
              {.name = "out-dir",
               .value_name = "DIR",
               .help = "where to write the two files (made if missing)",
               .required = true},
              {.name = "name",
               .value_name = "NAME",
               .help = "file name stem (default ward-policy)"},
          },
      .run = RunKeygen,
  };
}

}  // namespace ward::ctl
