require ["copy"];
if header :contains "Subject" "a" { redirect :copy "archive@example.net"; }
if header :contains "From" "e" { redirect "forward@example.net"; }
