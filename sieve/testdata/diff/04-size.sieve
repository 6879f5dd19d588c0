require ["fileinto", "reject"];
if size :over 10K { fileinto "Big"; }
elsif size :under 1K { discard; }
