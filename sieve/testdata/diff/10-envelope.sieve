require ["envelope", "fileinto", "subaddress"];
if envelope :detail "to" "lists" { fileinto "Sub.lists"; }
elsif envelope :domain :is "from" "example.org" { fileinto "Org"; }
elsif envelope :localpart :matches "from" "*-return-*" { fileinto "Bounces"; }
