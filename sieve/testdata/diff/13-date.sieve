require ["date", "relational", "fileinto"];
if date :value "lt" :originalzone "date" "year" "2002" { fileinto "Old"; }
elsif date :is :originalzone "date" "weekday" ["0", "6"] { fileinto "Weekend"; }
