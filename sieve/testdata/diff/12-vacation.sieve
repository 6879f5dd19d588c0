require ["vacation"];
vacation :days 7 :subject "Out of office" :addresses ["me@example.com"] "I am away until Monday.";
