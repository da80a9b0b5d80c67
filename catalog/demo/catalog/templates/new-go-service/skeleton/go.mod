module git.freshcart.example/${{ values.owner }}/${{ values.name }}

go 1.26
