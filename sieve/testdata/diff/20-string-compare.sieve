require ["fileinto", "relational", "comparator-i;ascii-numeric", "variables"];
if header :matches "X-Spam-Status" "*score=*.* *" {
  if string :value "ge" :comparator "i;ascii-numeric" "${2}" "5" { fileinto "Score5"; }
  elsif string :value "lt" :comparator "i;ascii-numeric" "${2}" "0" { fileinto "Negative"; }
}
if header :contains :comparator "i;octet" "Subject" "RE" { fileinto "Octet"; }
