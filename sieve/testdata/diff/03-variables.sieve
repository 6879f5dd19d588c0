require ["fileinto", "variables"];
if header :matches "From" "*@*" {
  set :lower "dom" "${2}";
  if string :matches "${dom}" "*>*" { set "dom" "${1}"; }
  fileinto "From.${dom}";
}
