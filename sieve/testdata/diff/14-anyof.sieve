require ["fileinto"];
if anyof (not exists "Message-ID", header :is "Precedence" ["bulk", "junk"]) { fileinto "Bulk"; }
if allof (address :all :contains "from" "@", not header :contains "to" "@") { discard; }
