require ["fileinto", "relational", "comparator-i;ascii-numeric"];
if header :count "ge" :comparator "i;ascii-numeric" "Received" "3" { fileinto "ManyHops"; }
if header :value "gt" :comparator "i;ascii-numeric" "X-Spam-Level" "5" { fileinto "Spammy"; }
