module Greetings

export greet

"Say hello to someone."
greet(name::AbstractString) = "Hello, $(name)!"

end
