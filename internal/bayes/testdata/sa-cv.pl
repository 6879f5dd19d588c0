#!/usr/bin/perl
# Runs SpamAssassin 4.0.1's own Bayes under the same 5-fold split as
# TestCrossValidation (messages ordered spam-1, easy-ham-1, hard-ham-1, each
# by name; message i is in fold i % 5), for the comparison figures quoted
# in accuracy_test.go. Usage: for f in 0 1 2 3 4; do perl sa-cv.pl $f; done
# Output: /tmp/sacv/out<fold>.tsv with file, group, Bayes probability.
# Takes about 4 minutes per fold.
use strict; use warnings;
use Mail::SpamAssassin;
my $root = "/work/shared/testsuites/corpus/train";
my @msgs;
for my $g ("spam-1","easy-ham-1","hard-ham-1") {
  opendir(my $d, "$root/$g") or die; my @f = sort grep {/\.eml$/} readdir($d); closedir $d;
  push @msgs, map { ["$root/$g/$_", $g, $_] } @f;
}
my $fold = $ARGV[0];
my $dir = "/tmp/sacv/f$fold"; system("rm -rf $dir; mkdir -p $dir");
open(my $p, ">", "$dir/user_prefs"); print $p "use_bayes 1\nbayes_auto_learn 0\nbayes_auto_expire 0\nbayes_path $dir/bayes\nbayes_learn_to_journal 0\nlock_method flock\n"; close $p;
my $sa = Mail::SpamAssassin->new({ userprefs_filename => "$dir/user_prefs", local_tests_only => 1, dont_copy_prefs => 1, userstate_dir => $dir });
$sa->init(1);
sub rd { local $/; open(my $f, "<", $_[0]) or die; binmode $f; my $x = <$f>; return $x }
for my $i (0..$#msgs) { next if $i % 5 == $fold;
  my $m = $sa->parse(rd($msgs[$i][0])); $sa->learn($m, undef, $msgs[$i][1] eq "spam-1" ? 1 : 0, 0); $m->finish; }
$sa->finish_learner();
open(my $o, ">", "/tmp/sacv/out$fold.tsv");
for my $i (0..$#msgs) { next unless $i % 5 == $fold;
  my $m = $sa->parse(rd($msgs[$i][0])); my $st = $sa->check($m);
  my $b = defined $st->{bayes_score} ? $st->{bayes_score} : "NA";
  print $o "$msgs[$i][2]\t$msgs[$i][1]\t$b\n"; $st->finish; $m->finish; }
close $o;
