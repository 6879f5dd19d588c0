require ["body", "fileinto"];
if body :text :contains ["unsubscribe", "remove"] { fileinto "Bulk"; }
elsif body :raw :contains "http://" { fileinto "Links"; }
