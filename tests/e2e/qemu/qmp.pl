#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# Minimal QMP client for usb_e2e.sh: qmp.pl SOCKET 'JSON command'... Connects, negotiates
# capabilities, sends each command and prints its reply. Exits 1 on an error reply or timeout.
use strict;
use warnings;
use IO::Socket::UNIX;

my $path = shift @ARGV or die "usage: qmp.pl SOCKET COMMAND...\n";
my $sock = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $path)
  or die "qmp: cannot connect to $path: $!\n";
$SIG{ALRM} = sub { die "qmp: no reply within 20 s\n" };

# Reads lines until one is a reply ("return" or "error"); events in between are skipped.
sub reply {
  alarm 20;
  while (my $line = <$sock>) {
    next unless $line =~ /"(return|error)"/;
    alarm 0;
    return $line;
  }
  die "qmp: connection closed\n";
}

my $greeting = <$sock>;
die "qmp: no greeting\n" unless defined $greeting && $greeting =~ /QMP/;
print $sock qq({"execute": "qmp_capabilities"}\n);
reply();
my $status = 0;
for my $command (@ARGV) {
  print $sock "$command\n";
  my $r = reply();
  print $r;
  $status = 1 if $r =~ /"error"/;
}
exit $status;
