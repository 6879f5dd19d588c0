require ["imap4flags", "fileinto"];
if header :contains "Subject" "re:" { addflag "\\Answered"; }
if address :localpart :contains "to" "zzz" { addflag ["\\Flagged", "$Work"]; }
setflag "\\Seen";
keep;
