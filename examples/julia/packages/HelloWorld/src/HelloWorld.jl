module HelloWorld

using Greetings

"Greet the world."
main() = println(greet("world"))

end
