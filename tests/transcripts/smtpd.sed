s/[A-Z][a-z]{2}, [ 0-9]?[0-9] [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [-+][0-9]{4}/DATE/g
s/queued as [a-z0-9]+/queued as QID/g
s#[^ ,]*/inetmail-t\.[A-Za-z0-9]{6}/#$T/#g
