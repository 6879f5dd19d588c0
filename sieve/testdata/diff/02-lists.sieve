require ["fileinto", "mailbox"];
if exists "List-Id" {
  if header :matches "List-Id" "*<*.*>*" { fileinto :create "Lists"; }
  else { fileinto "Lists.other"; }
} elsif address :domain :is "from" ["example.com", "spamassassin.taint.org"] {
  fileinto "Known";
}
