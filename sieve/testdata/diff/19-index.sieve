require ["index", "date", "fileinto", "relational"];
if header :index 1 :last :contains "Received" "localhost" { fileinto "Local"; }
if address :index 1 :domain "To" "example.com" { fileinto "First-To-Example"; }
