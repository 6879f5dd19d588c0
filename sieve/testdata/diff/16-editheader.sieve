require ["editheader", "fileinto"];
addheader "X-Filtered" "yes";
if header :is "X-Filtered" "yes" { fileinto "Edited"; }
