require ["fileinto"];
if header :contains "X-Spam-Flag" "YES" { fileinto "Junk"; stop; }
if header :contains "Subject" ["viagra", "money", "free"] { fileinto "Suspect"; }
