// SPDX-License-Identifier: Apache-2.0
#include "ward/testing/collector_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "ward/collector/server/tls.h"
#include "ward/collector/storage/secrets.h"
#include "ward/common/hex.h"
#include "ward/policy/loader.h"
#include "ward/policy/signing.h"
#include "ward/testing/paths.h"
#include "ward/v1/policy.pb.h"

namespace ward::testing {

std::uint16_t FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

long ProcessStatusKb(int pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(field + ":")) {
      return std::stol(line.substr(field.size() + 1));
    }
  }
  return -1;
}

Result<TestPki> CreateTestPki(const std::filesystem::path& dir) {
  WARD_ASSIGN_OR_RETURN(auto ca, collector::CreateCertificateAuthority("Test CA", 2));
  const std::vector<std::string> names = {"127.0.0.1", "localhost"};
  WARD_ASSIGN_OR_RETURN(auto server, collector::IssueServerCertificate(ca, names, 2));
  TestPki pki{dir / "ca.pem", dir / "server.pem", dir / "server.key"};
  WARD_RETURN_IF_ERROR(collector::WriteTlsMaterial(ca, pki.ca_cert, dir / "ca.key"));
  WARD_RETURN_IF_ERROR(collector::WriteTlsMaterial(server, pki.server_cert, pki.server_key));
  return pki;
}

struct PolicySigner::State {
  policy::SigningKey key;
  ward::v1::Policy sample;
};

Result<std::unique_ptr<PolicySigner>> PolicySigner::Generate() {
  std::ifstream in(ward::testing::TestdataDir() / "policy" / "sample-under18.json");
  std::stringstream json;
  json << in.rdbuf();
  WARD_ASSIGN_OR_RETURN(ward::v1::Policy sample, policy::LoadPolicyJson(json.str()));
  WARD_ASSIGN_OR_RETURN(policy::SigningKey key, policy::SigningKey::Generate());
  std::unique_ptr<PolicySigner> s(new PolicySigner());
  s->public_key_hex_ = HexEncode(key.public_key().raw());
  s->state_ = std::make_unique<State>(State{std::move(key), std::move(sample)});
  return s;
}

PolicySigner::~PolicySigner() = default;

Result<std::string> PolicySigner::SignedPolicyBytes(std::uint64_t version,
                                                    const std::string& name) {
  ward::v1::Policy policy = state_->sample;
  policy.set_version(version);
  policy.set_name(name);
  WARD_ASSIGN_OR_RETURN(ward::v1::SignedPolicy signed_policy,
                        policy::SignPolicy(policy, state_->key));
  return signed_policy.SerializeAsString();
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ward-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) != nullptr) {
    path_ = tmpl;
  }
}

Result<TestSite> SeedTestSite(collector::Storage& store, const std::string& group,
                              const std::string& public_key_hex) {
  WARD_RETURN_IF_ERROR(store.CreateGroup({group, public_key_hex}));
  TestSite site;
  site.enrolment_secret = collector::NewSecret("wes_");
  WARD_RETURN_IF_ERROR(
      store.AddEnrolmentSecret(collector::HashSecret(site.enrolment_secret), group, 1));
  for (auto [name, role] :
       {std::pair{"it", collector::StaffRole::kIt}, std::pair{"dsl", collector::StaffRole::kDsl},
        std::pair{"viewer", collector::StaffRole::kViewer},
        std::pair{"metrics", collector::StaffRole::kMetrics}}) {
    site.tokens[name] = collector::NewSecret("wst_");
    WARD_RETURN_IF_ERROR(store.CreateStaffToken(std::string("staff-") + name, role,
                                                collector::HashSecret(site.tokens[name]), 1));
  }
  return site;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace ward::testing
