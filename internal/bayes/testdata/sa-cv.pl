#!/usr/bin/perl
# Runs SpamAssassin 4.0.1's own Bayes under the same 5-fold split as
# TestCrossValidation (cv_test.go): a message's fold is the first four bytes
# of the MD5 of its file name, big-endian, modulo 5. For the comparison
# figures quoted in cv_test.go. Usage: for f in 0 1 2 3 4; do perl sa-cv.pl $f; done
# Output: /tmp/sacv/out<fold>.tsv with file, group, Bayes probability ("NA"
# when SpamAssassin gave none). Takes about 4 minutes per fold.
use strict; use warnings;
use Digest::MD5 qw(md5);
use Mail::SpamAssassin;
my $root = "/work/shared/testsuites/corpus/train";
my @msgs;
for my $g ("spam-1","easy-ham-1","hard-ham-1") {
  opendir(my $d, "$root/$g") or die; my @f = sort grep {/\.eml$/} readdir($d); closedir $d;
  push @msgs, map { ["$root/$g/$_", $g, $_, unpack("N", md5($_)) % 5] } @f;
}
my $fold = $ARGV[0];
my $dir = "/tmp/sacv/f$fold"; system("rm -rf $dir; mkdir -p $dir");
open(my $p, ">", "$dir/user_prefs"); print $p "use_bayes 1\nbayes_auto_learn 0\nbayes_auto_expire 0\nbayes_path $dir/bayes\nbayes_learn_to_journal 0\nlock_method flock\n"; close $p;
my $sa = Mail::SpamAssassin->new({ userprefs_filename => "$dir/user_prefs", local_tests_only => 1, dont_copy_prefs => 1, userstate_dir => $dir });
$sa->init(1);
sub rd { local $/; open(my $f, "<", $_[0]) or die; binmode $f; my $x = <$f>; return $x }
for my $m (@msgs) { next if $m->[3] == $fold;
  my $pm = $sa->parse(rd($m->[0])); $sa->learn($pm, undef, $m->[1] eq "spam-1" ? 1 : 0, 0); $pm->finish; }
$sa->finish_learner();
open(my $o, ">", "/tmp/sacv/out$fold.tsv");
for my $m (@msgs) { next unless $m->[3] == $fold;
  my $pm = $sa->parse(rd($m->[0])); my $st = $sa->check($pm);
  my $b = defined $st->{bayes_score} ? $st->{bayes_score} : "NA";
  print $o "$m->[2]\t$m->[1]\t$b\n"; $st->finish; $pm->finish; }
close $o;
